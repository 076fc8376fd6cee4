/* global document, window, HTMLFormElement, HTMLButtonElement, setTimeout */
// Progressive enhancement only: every page works without this file. No inline handlers (the CSP forbids
// them), so behaviour hangs off data- attributes.

// <form data-confirm="Question?">: ask before a destructive or disruptive action.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // <form data-busy="Testing…">: show that a slow request (a live model call) is under way, and stop double posts.
  const busy = form.dataset.busy;
  const button = form.querySelector('button[type="submit"]');
  if (busy && button instanceof HTMLButtonElement) {
    button.textContent = busy;
    button.setAttribute('aria-busy', 'true');
    setTimeout(() => (button.disabled = true), 0);
  }
});
