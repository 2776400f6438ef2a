// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" checkboxes for batch actions.
  document.querySelectorAll("input[data-select-all]").forEach((master) => {
    const name = master.getAttribute("data-select-all");
    master.addEventListener("change", () => {
      master.closest("form").querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => { box.checked = master.checked; });
    });
  });
  // Ask before destructive batch decisions.
  // Print buttons (no inline script: the CSP allows only this file).
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  // A form may say what exactly is about to happen (data-confirm).
  document.querySelectorAll("button.danger, form[data-confirm] button").forEach((button) => {
    button.addEventListener("click", (event) => {
      const form = button.closest("form");
      const text = (form && form.getAttribute("data-confirm")) || "确定执行此操作吗？";
      if (!window.confirm(text)) event.preventDefault();
    });
  });
});
