/* The review queue by keyboard, and evidence photos in a lightbox. No dependencies; the page works without it
   (every decision is the row's own POST form, CSRF token included: a shortcut only presses its button). */
(function () {
  "use strict";
  var table = document.querySelector("table[data-review-queue]");
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-action]"));
  var lightbox = document.getElementById("lightbox");
  var current = -1;
  var KEY = "review-queue-row";  // the row index to come back to after a decision reloads the page

  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) { rows[current].classList.remove("selected"); rows[current].removeAttribute("aria-selected"); }
    current = index;
    rows[current].classList.add("selected");
    rows[current].setAttribute("aria-selected", "true");
    rows[current].scrollIntoView({block: "nearest"});
  }

  function typing(target) {
    return target.closest && target.closest(
      "input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]") !== null;
  }

  function submit(row, decision) {
    var button = row.querySelector("button[data-decision=" + decision + "]");
    if (!button) { return; }
    sessionStorage.setItem(KEY, String(rows.indexOf(row)));
    button.form.requestSubmit(button);
  }

  // Approve at once; reject and ask for evidence need words the resident will read, so they focus the note first
  // and Enter sends the decision asked for.
  function decide(row, decision) {
    var note = row.querySelector("input[name=note]");
    if (decision === "approve" || (note && note.value.trim())) { submit(row, decision); return; }
    if (!note) { return; }
    row.dataset.pending = decision;
    note.placeholder = note.dataset[decision] || note.placeholder;
    note.focus();
  }

  function open(link) {
    lightbox.querySelector("img").src = link.href;
    lightbox.querySelector("img").alt = link.querySelector("img").alt;
    lightbox.showModal();
  }

  table.addEventListener("click", function (event) {
    var link = event.target.closest("a.thumb");
    if (link) { event.preventDefault(); open(link); return; }
    var row = event.target.closest("tr[data-action]");
    if (row) { select(rows.indexOf(row)); }
  });
  lightbox.addEventListener("click", function (event) {
    if (event.target === lightbox) { lightbox.close(); }  // a click on the backdrop
  });

  var all = table.querySelector("input[data-select-all]");
  if (all) {
    all.addEventListener("change", function () {
      rows.forEach(function (row) { row.querySelector("input[name=action_ids]").checked = all.checked; });
    });
  }

  document.addEventListener("keydown", function (event) {
    // an open dialog (the lightbox, console.js's "are you sure") takes the keys itself, Esc included
    if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) { return; }
    var target = event.target;
    if (target.matches && target.matches("tr[data-action] input[name=note]")) {
      var row = target.closest("tr[data-action]");
      if (event.key === "Enter") {
        event.preventDefault();  // never the form's first button (approve) by accident
        if (row.dataset.pending) { submit(row, row.dataset.pending); }
      } else if (event.key === "Escape") {
        delete row.dataset.pending;
        target.blur();
      }
      return;
    }
    if (typing(target) || current < 0) { return; }
    var selected = rows[current];
    switch (event.key) {
      case "j": case "ArrowDown": select(current + 1); break;
      case "k": case "ArrowUp": select(current - 1); break;
      case "a": decide(selected, "approve"); break;
      case "r": decide(selected, "reject"); break;
      case "e": decide(selected, "evidence"); break;
      case "x": var box = selected.querySelector("input[name=action_ids]"); if (box) { box.checked = !box.checked; } break;
      case "p": var link = selected.querySelector("a.thumb"); if (link) { open(link); } break;
      default: return;
    }
    event.preventDefault();
  });

  var back = parseInt(sessionStorage.getItem(KEY) || "0", 10);
  sessionStorage.removeItem(KEY);
  select(isNaN(back) ? 0 : back);
}());
