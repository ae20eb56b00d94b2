// A second click on a form's submit button while the first is on its way would post
// the form twice. The server already answers a repeat with the record the first made;
// this only spares the wait. Pages work the same without it.
document.addEventListener("submit", (event) => {
  const button = event.target.querySelector("button[data-submit-once]");
  if (!button) return;
  if (button.dataset.submitted) {
    event.preventDefault();
    return;
  }
  button.dataset.submitted = "true";
  button.setAttribute("aria-disabled", "true");
  // After the submission has started: a button disabled before it would not be sent.
  setTimeout(() => { button.disabled = true; }, 0);
});

// A page restored from the back-forward cache keeps the disabled button: the person
// is back on the form and may send it again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const button of document.querySelectorAll("button[data-submit-once]")) {
    button.disabled = false;
    button.removeAttribute("aria-disabled");
    delete button.dataset.submitted;
  }
});
