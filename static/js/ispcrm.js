// Keyboard helpers for the staff pages: "/" focuses the client search; arrows and Enter
// walk the results of any live-search box; a click on a building option fills the picker.
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    const search = document.getElementById("header-search");
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (event.key === "/" && search && !typing) {
      event.preventDefault();
      search.focus();
    }
  });

  function resultsOf(input) {
    const box = input.parentElement.querySelector(".search-results");
    return box ? Array.from(box.querySelectorAll(".list-group-item-action")) : [];
  }

  document.addEventListener("keydown", function (event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("hx-get")) return;
    const items = resultsOf(input);
    if (!items.length) return;
    let index = items.findIndex((item) => item.classList.contains("selected"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (index >= 0) items[index].classList.remove("selected");
      index = event.key === "ArrowDown" ? Math.min(index + 1, items.length - 1) : Math.max(index - 1, 0);
      items[index].classList.add("selected");
      items[index].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter") {
      // Enter opens the highlighted result, or the only/first one.
      event.preventDefault();
      items[Math.max(index, 0)].click();
    } else if (event.key === "Escape") {
      input.parentElement.querySelector(".search-results").innerHTML = "";
    }
  });

  document.addEventListener("click", function (event) {
    const option = event.target.closest("[data-building-id]");
    if (option) {
      const form = option.closest("form");
      form.querySelector("input[name=building]").value = option.dataset.buildingId;
      form.querySelector("#building-query").value = option.dataset.buildingLabel;
      form.querySelector("#building-picked").textContent = option.dataset.buildingLabel;
      option.closest(".search-results").innerHTML = "";
      return;
    }
    // A click elsewhere closes open result lists.
    document.querySelectorAll(".search-results").forEach(function (box) {
      if (!box.parentElement.contains(event.target)) box.innerHTML = "";
    });
  });

  // A select marked data-autosubmit sends its form when changed (the page's CSP allows no
  // inline onchange="…"; a <noscript> button does it without JavaScript).
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // Keyboard first: the first field of an opened action (a Bootstrap modal) gets the focus.
  document.addEventListener("shown.bs.modal", function (event) {
    const field = event.target.querySelector(".modal-body input:not([type=hidden]), .modal-body select, .modal-footer .btn-primary, .modal-footer .btn-danger");
    if (field) field.focus();
  });

  // The "Excel" button of a list (reports/exports/_button.html) sends the filters of the
  // address at the moment of the click: htmx may have filtered the list since the page came.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("[data-export-button]");
    if (!form) return;
    form.querySelectorAll("[data-filter]").forEach(function (input) { input.remove(); });
    new URLSearchParams(window.location.search).forEach(function (value, key) {
      if (key === "page" || key === "kind" || key === "csrfmiddlewaretoken") return;
      const input = document.createElement("input");
      input.type = "hidden"; input.name = key; input.value = value;
      input.setAttribute("data-filter", "");
      form.appendChild(input);
    });
  });
})();
