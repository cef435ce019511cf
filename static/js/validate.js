// Live validation of the paste form: a request is sent only when what it would send changed.
// Typing and deleting a character, or an input event that leaves the texts as they were, would
// otherwise post the whole document again (a large API description is megabytes).
document.addEventListener("htmx:confirm", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || form.id !== "paste-form") return;
  const parts = [];
  for (const field of form.elements) {
    if (!field.name || field.name === "csrfmiddlewaretoken") continue;
    if (field.type === "file") {
      for (const file of field.files || []) parts.push(`${field.name}\u0000${file.name}\u0000${file.size}\u0000${file.lastModified}`);
    } else {
      parts.push(`${field.name}\u0000${field.value}`);
    }
  }
  const sending = parts.join("\u0001");
  if (form.dataset.validatedOnce === "1" && form.lastValidated === sending) {
    event.preventDefault();
    return;
  }
  form.lastValidated = sending;
  form.dataset.validatedOnce = "1";
});
