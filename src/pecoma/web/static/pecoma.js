// pecoma: small enhancements; every page works without this file.
(function () {
  "use strict";

  // Back to the case form from its report: the form is shown as it was served (no field
  // is put back by the browser: every control says autocomplete="off", as a form half put
  // back had been assessed as another case), and the page says so at its top, in view
  // (the browser would put the page back scrolled to the button at its foot) and with the
  // focus, with a button going forward again (to the report and its "Edit the case").
  var navigation = window.performance && performance.getEntriesByType
    ? performance.getEntriesByType("navigation")[0] : null;
  var caseForm = document.querySelector("form.case-form[action='/report']");
  if (caseForm && "scrollRestoration" in history) { history.scrollRestoration = "manual"; }
  if (caseForm && navigation && navigation.type === "back_forward") {
    var notice = document.createElement("div");
    notice.className = "notice";
    notice.id = "back-notice";
    notice.tabIndex = -1;
    var said = document.createElement("p");
    said.setAttribute("role", "status");
    said.textContent = "You came back with the browser\u2019s Back button: the form is " +
      "shown as it was served, not as you left it. To change the case you assessed, go " +
      "Forward to its report and use \u201cEdit the case\u201d.";
    var forward = document.createElement("button");
    forward.type = "button";
    forward.className = "secondary";
    forward.textContent = "Go forward";
    forward.addEventListener("click", function () { history.forward(); });
    notice.appendChild(said);
    notice.appendChild(forward);
    caseForm.parentNode.insertBefore(notice, caseForm);
    window.scrollTo(0, 0);
    notice.focus();
  }

  // Repeated rows (metastases, therapy lines, scans). Without this script the "add
  // another" button posts the form to /form, which shows it again with one more row.
  function setupRepeat(repeat) {
    var rows = repeat.querySelector(".rows");
    var template = repeat.querySelector("template.row-template");
    var button = repeat.querySelector("button.add-row");
    var counter = repeat.querySelector("input.rows-shown");
    var note = repeat.querySelector(".rows-note");
    var full = repeat.querySelector(".rows-full");
    if (!rows || !template || !button) { return null; }
    var noun = button.getAttribute("data-noun");
    // The server reads at most this many rows (and refuses a form with more).
    var most = Number(repeat.getAttribute("data-max-rows")) || Infinity;
    function current() { return rows.querySelectorAll("fieldset.row"); }
    function refresh() {
      var n = current().length;
      button.textContent = (n ? "Add another " : /^[aeiou]/.test(noun) ? "Add an " : "Add a ") + noun;
      button.disabled = n >= most;
      if (counter) { counter.value = String(n); }
      if (note) { note.hidden = n === 0; }
      if (full) { full.hidden = n < most; }
    }
    function add(focus) {
      if (current().length >= most) { return; }
      var next = 0;
      current().forEach(function (row) {
        next = Math.max(next, Number(row.getAttribute("data-row")) + 1);
      });
      var html = template.innerHTML
        .split("__INDEX__").join(String(next))
        .split("-INDEX-").join("-" + next + "-")
        .split("__NUMBER__").join(String(next + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      refresh();
      if (focus) {
        var first = row.querySelector("select, input");
        if (first) { first.focus(); }
      }
    }
    // A row is blank when every control holds its default (data-default, from the
    // server's form description), whatever the page was rendered with.
    function blank(row) {
      var empty = true;
      row.querySelectorAll("select, input").forEach(function (el) {
        var dflt = el.tagName === "SELECT" ? (el.getAttribute("data-default") || "") : "";
        if (el.value.trim() !== dflt) { empty = false; }
      });
      return empty;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      add(true);
    });
    // The disease status decides whether a blank row is offered; rows holding data are
    // never removed (the server reports a contradiction instead).
    return function (status) {
      var wanted = (repeat.getAttribute("data-show-for") || "").split(" ").indexOf(status) >= 0;
      var all = Array.prototype.slice.call(current());
      if (wanted && all.length === 0) {
        add(false);
      } else if (!wanted && all.length > 0 && all.every(blank)) {
        all.forEach(function (row) { row.remove(); });
        refresh();
      }
    };
  }

  var status = document.querySelector('select[name="stage.status"]');
  var updates = [];
  document.querySelectorAll(".repeat").forEach(function (repeat) {
    var update = setupRepeat(repeat);
    if (update) { updates.push(update); }
  });
  if (status) {
    status.addEventListener("change", function () {
      updates.forEach(function (update) { update(status.value); });
    });
  }

  // "None of these histology features": the four left unknown become absent, as the
  // server reads the ticked box. Unticking it gives "unknown" back to those the tick
  // changed, so an accidental tick leaves nothing behind and the box means the same with
  // and without this script. A feature changed by hand is the user's own; changing one to
  // anything but absent contradicts the box: it is cleared and, as when it is unticked,
  // those the tick changed are unknown again (never left absent unchosen: without this
  // script the same choices are refused and nothing is assessed).
  var none = document.querySelector('input[name="none_of_four"]');
  if (none) {
    var four = ["histology.necrosis", "histology.infiltrative_growth",
      "histology.high_nuclear_grade_and_cellularity", "histology.vascular_invasion"]
      .map(function (name) { return document.querySelector('select[name="' + name + '"]'); })
      .filter(function (el) { return el !== null; });
    var changed = [];
    var tick = function () {
      changed = four.filter(function (el) { return el.value === "unknown"; });
      changed.forEach(function (el) { el.value = "absent"; });
    };
    // A form shown again (an error, a row added) keeps the box ticked and the four as
    // they were entered: the box is applied here as if just ticked.
    if (none.checked) { tick(); }
    var untick = function () {
      changed.forEach(function (el) {
        if (el.value === "absent") { el.value = "unknown"; }
      });
      changed = [];
    };
    none.addEventListener("change", function () {
      if (none.checked) {
        tick();
        return;
      }
      untick();
    });
    four.forEach(function (el) {
      el.addEventListener("change", function () {
        changed = changed.filter(function (other) { return other !== el; });
        if (el.value !== "absent" && none.checked) {
          none.checked = false;
          untick();
        }
      });
    });
    // The form is posted as it would be without this script (the box ticked, those it set
    // still unknown: the server applies the box), so a form shown again can be unticked.
    if (none.form) {
      none.form.addEventListener("formdata", function (event) {
        if (!none.checked) { return; }
        changed.forEach(function (el) { event.formData.set(el.name, "unknown"); });
      });
    }
  }

  // A print button where JavaScript runs (the browser's own print works anyway).
  document.querySelectorAll("button.print-button").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // Move focus to the error summary after a rejected submission.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
