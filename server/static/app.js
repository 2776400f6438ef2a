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
  document.querySelectorAll("button.danger").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm("确定执行此操作吗？")) event.preventDefault();
    });
  });
});
