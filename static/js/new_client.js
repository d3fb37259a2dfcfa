// The new client page's keyboard rules (connections/new_client.html). Loaded after
// ispcrm.js (deferred scripts run in order, before DOMContentLoaded): its handlers (Enter
// picks a building) run first.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  const form = document.getElementById("new-client");
  const query = document.getElementById("building-query");
  const picked = form.querySelector("input[name=building]");
  // Shown again with mistakes: the cursor goes to the first one.
  const wrong = form.querySelector(".is-invalid");
  if (wrong) wrong.focus();
  // The INN is asked of a company only.
  form.querySelectorAll("input[name=kind]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      document.getElementById("inn-field").hidden = radio.value !== "company" || !radio.checked;
    });
  });
  // A building picked from the list: show the survey days of that building. Caught before
  // ispcrm.js fills the field and empties the list, acted on right after it.
  document.addEventListener("click", function (event) {
    if (event.target.closest("#building-options [data-building-id]")) {
      setTimeout(function () { htmx.trigger("#building-watch", "picked"); }, 0);
    }
  }, true);
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.defaultPrevented) return;
    const field = event.target;
    if (field === query && !picked.value) {
      event.preventDefault();  // the list is still coming: Enter will pick from it
    } else if (field.tagName === "SELECT" || field.type === "checkbox" || field.type === "radio") {
      event.preventDefault();  // Enter submits from every field, not only text inputs
      form.requestSubmit();
    }
  });
});
