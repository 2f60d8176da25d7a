// The console's few behaviours, on every page (no framework, our own static file):
// - a destructive action asks first: a form (or its button) with data-confirm shows what will happen in a
//   dialog, Cancel first; only "yes" submits, through the same button (formaction kept). Without JavaScript
//   the form submits as before, and the server checks everything anyway.
// - a table with data-sortable sorts by a column when its header is pressed (numbers as numbers).
(function () {
  "use strict";
  var body = document.body;

  function confirmDialog() {
    var dialog = document.getElementById("confirm-dialog");
    if (dialog) { return dialog; }
    dialog = document.createElement("dialog");
    dialog.id = "confirm-dialog";
    dialog.className = "confirm";
    dialog.innerHTML = '<form method="dialog"><h2></h2><p></p><div class="actions">' +
      '<button class="secondary" value="cancel" autofocus></button><button class="danger" value="yes"></button></div></form>';
    dialog.querySelector("button.secondary").textContent = body.getAttribute("data-confirm-cancel") || "Cancel";
    body.appendChild(dialog);
    return dialog;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target, submitter = event.submitter || null;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!message || form.getAttribute("data-confirmed") === "yes" || typeof HTMLDialogElement === "undefined") { return; }
    event.preventDefault();
    var dialog = confirmDialog(), action = submitter ? submitter.textContent.trim() : "";
    dialog.querySelector("h2").textContent = (body.getAttribute("data-confirm-title") || "%s?").replace("%s", action);
    dialog.querySelector("p").textContent = message;
    dialog.querySelector("button.danger").textContent = action || (body.getAttribute("data-confirm-yes") || "OK");
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "yes") { return; }
      form.setAttribute("data-confirmed", "yes");
      if (submitter && form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    };
    dialog.showModal();
  });

  function sortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        var key = function (row) {
          var text = (row.cells[column] ? row.cells[column].textContent : "").trim();
          var number = parseFloat(text.replace(/[,\s%]/g, ""));
          return isNaN(number) || !/^[-+]?[\d,.\s%]+$/.test(text) ? text : number;
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "zh-CN");
          return descending ? -order : order;
        });
        rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
      });
    });
  }

  document.querySelectorAll("table[data-sortable]").forEach(sortable);
}());
