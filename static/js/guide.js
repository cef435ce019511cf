// The guide's forms answer a refused change with a short message (400: what to fix; 409: who
// changed the step first). htmx swaps no error response by itself: put the message in the step's
// message slot, and leave the step (and what was typed) as it is.
document.addEventListener("htmx:beforeSwap", (event) => {
  const form = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!(form instanceof HTMLFormElement) || !form.closest(".guide")) return;
  const status = event.detail.xhr.status;
  if (status !== 400 && status !== 403 && status !== 409) return;
  const slot = form.closest(".step") && form.closest(".step").querySelector(".step-message");
  if (!slot) return;
  event.detail.shouldSwap = true;
  event.detail.isError = false;
  event.detail.target = slot;
  event.detail.swapOverride = "innerHTML";
});
