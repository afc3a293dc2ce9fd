// The dashboard's only script: live previews (a schedule's next times) and confirmations.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const input of document.querySelectorAll("input[data-preview]")) {
    const target = document.getElementById(input.dataset.previewTarget);
    let timer = null;
    const update = async () => {
      const url = input.dataset.preview + "?when=" + encodeURIComponent(input.value);
      const response = await fetch(url, { credentials: "same-origin" });
      const data = await response.json();
      target.replaceChildren();
      if (data.error) {
        const item = document.createElement("li");
        item.className = "error";
        item.textContent = data.error;
        target.append(item);
        return;
      }
      for (const time of data.times) {
        const item = document.createElement("li");
        item.textContent = time;
        target.append(item);
      }
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 250);
    });
    if (input.value) update();
  }
});
