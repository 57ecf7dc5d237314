// pecoma: small enhancements; every page works without this file.
(function () {
  "use strict";

  // "Add another ..." for repeated rows (metastases, therapy lines).
  document.querySelectorAll("button.add-row").forEach(function (button) {
    var prefix = button.getAttribute("data-prefix");
    var rows = document.querySelector('.rows[data-prefix="' + prefix + '"]');
    var template = document.querySelector('template.row-template[data-prefix="' + prefix + '"]');
    if (!rows || !template) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = 0;
      rows.querySelectorAll("fieldset.row").forEach(function (row) {
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
      var first = row.querySelector("select, input");
      if (first) { first.focus(); }
    });
  });

  // A print button where JavaScript runs (the browser's own print works anyway).
  document.querySelectorAll("button.print-button").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // Move focus to the error summary after a rejected submission.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
