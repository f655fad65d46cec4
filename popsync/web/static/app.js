// popsync workspace: keyboard use of the review queue and revealing one field (no library).
"use strict";
(function () {
  const body = document.body;
  const csrf = body.dataset.csrf;
  const rows = () => Array.from(document.querySelectorAll("article.review-row"));
  let current = -1;

  function focusRow(index, quiet) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all[current].focus({preventScroll: Boolean(quiet)});
    if (!quiet) all[current].scrollIntoView({block: "nearest"});
  }

  function row() {
    const active = document.activeElement && document.activeElement.closest("article.review-row");
    if (active) current = rows().indexOf(active);
    return active || rows()[current] || null;
  }

  function typing(event) {
    const t = event.target;
    return t && (t.tagName === "INPUT" && t.type !== "radio" && t.type !== "checkbox"
      || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    const here = row();
    if (event.key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if (event.key === "/") {
      const filter = document.querySelector(".filters select, .filters input");
      if (filter) { filter.focus(); event.preventDefault(); }
    } else if (here && /^[1-9]$/.test(event.key)) {
      const radio = here.querySelector('form.decide input[name=choice][value="' + event.key + '"]');
      if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
    } else if (here && event.key === "n") {
      const radio = here.querySelector('form.decide input[name=choice][value="none"]');
      if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
    } else if (here && event.key === "x") {
      const box = here.querySelector("input[name=keys]");
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    } else if (here && event.key === "Enter") {
      const form = here.querySelector("form.decide");
      if (form && form.querySelector("input[name=choice]:checked")) {
        event.preventDefault();
        form.requestSubmit();
      }
    } else if (event.key === "u") {
      const undo = document.querySelector("form.undo");
      if (undo) { event.preventDefault(); undo.requestSubmit(); }
    }
  });

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button.reveal");
    if (!button) return;
    const form = new URLSearchParams({key: button.dataset.key, side: button.dataset.side,
                                      field: button.dataset.field});
    const response = await fetch(body.dataset.revealUrl, {
      method: "POST", body: form, credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"},
    });
    const cell = button.closest("td");
    const value = cell.querySelector(".value");
    if (!response.ok) { value.textContent = "(không được phép)"; return; }
    const data = await response.json();
    value.textContent = data.value;
    value.classList.add("revealed");
    button.remove();
  });

  // Ready for the keyboard, without scrolling away from the page's messages.
  if (rows().length) focusRow(0, true);
})();
