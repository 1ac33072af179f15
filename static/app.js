// nsbox console: small progressive enhancements. Every page works without this file.
"use strict";

// Ask before destructive forms (data-confirm).
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

// Copy buttons (data-copy) appear only where the clipboard works.
for (const button of document.querySelectorAll("button[data-copy]")) {
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.getAttribute("data-copy"));
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Select and copy";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
}

// Instant filter: a search field with data-filter-target hides non-matching rows as you type
// (the form still filters on the server when submitted).
for (const input of document.querySelectorAll("input[data-filter-target]")) {
  const table = document.querySelector(`#${input.getAttribute("data-filter-target")} table`);
  if (!table) continue;
  input.addEventListener("input", () => {
    const needle = input.value.trim().toLowerCase();
    for (const row of table.tBodies[0].rows) {
      row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
    }
  });
}

// The record form names the chosen type's syntax and shows its example as the placeholder.
const typeSelect = document.querySelector("#f-type");
const typeHint = document.querySelector("#type-hint");
const contentInput = document.querySelector("#f-content");
if (typeSelect && typeHint) {
  const show = () => {
    const option = typeSelect.selectedOptions[0];
    if (!option) return;
    const code = (text) => { const c = document.createElement("code"); c.textContent = text; return c; };
    typeHint.replaceChildren("Content: ", code(option.dataset.syntax), " — e.g. ", code(option.dataset.example));
    if (contentInput) contentInput.placeholder = option.dataset.example;
  };
  typeSelect.addEventListener("change", show);
}
