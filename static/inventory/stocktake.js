// Stock-taking with a keyboard-wedge scanner: each scan ends with Enter, which submits the scan form (htmx);
// after the answer the field is emptied and keeps the focus for the next scan.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (form && form.id === "scan-form") {
    const field = document.getElementById("scan-field");
    field.value = "";
    field.focus();
  }
});
