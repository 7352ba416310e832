/* Forms of issue 12. File inputs (templates/macros.html file_input): a file larger than the server's limit is refused here,
   before anything is uploaded, with a message naming the limit. The limit and the message come from the
   input's data attributes, rendered by the server; the server checks the size again on upload. */
(function () {
  "use strict";

  function check(input) {
    var max = parseInt(input.dataset.maxBytes, 10);
    if (!max) { return; }
    var note = document.getElementById(input.dataset.sizeNote);
    var big = Array.prototype.filter.call(input.files || [], function (file) { return file.size > max; });
    if (big.length) {
      var message = (input.dataset.tooLarge || "").replace("{name}", big[0].name);
      input.value = "";  // nothing over the limit is sent: the other choices stay to be made again
      if (note) { note.textContent = message; note.hidden = false; }
      input.setAttribute("aria-invalid", "true");
    } else {
      if (note) { note.textContent = ""; note.hidden = true; }
      input.removeAttribute("aria-invalid");
    }
  }

  // Delegated: lines the reimbursement form adds later (HTMX) are covered too.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("input[type=file][data-max-bytes]")) { check(target); }
  });

  // A search box inside a form (the supervisor picker) searches as one types: Enter must not submit
  // the whole form half-filled.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target && target.matches && target.matches("input[data-search-only]")) {
      event.preventDefault();
    }
  });
})();
