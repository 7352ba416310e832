/* The pages' few behaviours, as a static file: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  // The reimbursement form: empty file inputs are left out (the server counts every file part), and
  // too many files are stopped here, before the upload: the server refuses them too, but the chosen
  // files would have to be picked again. The limits come from the form's data attributes.
  function guardFileCounts(form) {
    var maxFiles = parseInt(form.dataset.maxFiles, 10), lineMaxFiles = parseInt(form.dataset.lineMaxFiles, 10);
    form.addEventListener("submit", function (event) {
      var inputs = form.querySelectorAll("input[type=file]"), count = 0, crowded = null;
      inputs.forEach(function (input) {
        count += input.files.length;
        if (!crowded && input.files.length > lineMaxFiles) { crowded = input; }
      });
      var total = document.getElementById("too-many-files"), line = document.getElementById("too-many-line-files");
      if (total) { total.hidden = count <= maxFiles; }
      if (line) { line.hidden = !crowded; }
      if (count > maxFiles || crowded) {
        event.preventDefault();
        if (crowded) { crowded.focus(); }
        return;
      }
      inputs.forEach(function (input) { if (!input.files.length) { input.disabled = true; } });
      setTimeout(function () { inputs.forEach(function (input) { input.disabled = false; }); }, 0);
    });
  }

  // Confirmation before money moves or something cannot be undone: the form's data-confirm names the
  // amount and the person; "{amount}" is replaced by what was typed in the form's amount field.
  function question(form) {
    var amount = form.querySelector("[name=amount]");
    return form.dataset.confirm.replace("{amount}", amount ? amount.value : "");
  }

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("form[data-confirm]") : null;
    if (!form) { return; }
    event.preventDefault();
    if (window.confirm(question(form))) { event.detail.issueRequest(true); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]:not([hx-post])") && !window.confirm(question(form))) {
      event.preventDefault();
    }
  });

  function start() {
    document.querySelectorAll("form[data-max-files]").forEach(guardFileCounts);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
