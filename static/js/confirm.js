// Forms marked data-confirm="…" (post_button(confirm=…)) ask before an irreversible action.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
