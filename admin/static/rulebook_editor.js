// The rulebook's YAML editor: CodeMirror 6 (vendored from npm, see the Makefile) over the form's textarea, which
// stays the submitted field and the no-JS fallback. Line numbers, YAML highlighting, and each problem the last
// save found (the textarea's data-problems: [line, path, message]) marked at its line.
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection }
  from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching, foldGutter }
  from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";

function mount(textarea) {
  const host = document.createElement("div");
  host.className = "code-editor";
  host.dataset.editorFor = textarea.name;
  textarea.after(host);
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), foldGutter(), lintGutter(), history(), drawSelection(),
        indentOnInput(), bracketMatching(), highlightActiveLine(), yaml(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label") || textarea.name }),
        // The textarea always holds the text: the form submits it, and a test or a script may read it.
        EditorView.updateListener.of((update) => {
          if (update.docChanged) textarea.value = update.state.doc.toString();
        }),
      ],
    }),
  });
  textarea.hidden = true;
  textarea.form?.addEventListener("submit", () => { textarea.value = view.state.doc.toString(); });

  const problems = JSON.parse(textarea.dataset.problems || "[]");
  const doc = view.state.doc;
  const diagnostics = problems.map(([line, path, message]) => {
    const at = doc.line(Math.min(Math.max(line || 1, 1), doc.lines));
    const indent = at.text.length - at.text.trimStart().length;  // marked from the key, not its indentation
    return { from: Math.min(at.from + indent, at.to), to: at.to, severity: "error", message: `${path}: ${message}` };
  });
  if (diagnostics.length) {
    view.dispatch(setDiagnostics(view.state, diagnostics));
    view.dispatch({ selection: { anchor: diagnostics[0].from },
                    effects: EditorView.scrollIntoView(diagnostics[0].from, { y: "center" }) });
  }
  // The problem list's "line N" links move the editor there instead of to an anchor.
  document.querySelectorAll("a[data-goto-line]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const at = view.state.doc.line(Math.min(Number(link.dataset.gotoLine), view.state.doc.lines));
      view.dispatch({ selection: { anchor: at.from }, effects: EditorView.scrollIntoView(at.from, { y: "center" }) });
      view.focus();
    });
  });
  return view;
}

document.querySelectorAll("textarea.yaml[data-code-editor]").forEach(mount);
