// The run page's findings: while a filter or another page loads, the list on screen is marked
// busy (aria-busy, and the stylesheet dims it under `.htmx-request`); htmx swaps in the new list,
// which has no aria-busy, or the request fails and the mark is taken off.
document.addEventListener("htmx:beforeRequest", function (event) {
  var target = event.detail.target;
  if (target && target.id === "findings") target.setAttribute("aria-busy", "true");
});
document.addEventListener("htmx:afterRequest", function (event) {
  var target = event.detail.target;
  if (target && target.id === "findings") target.removeAttribute("aria-busy");
});
