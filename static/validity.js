// Form checks the browser makes itself (required, min, max, minlength, type=email, pattern) speak the page's
// language, not the browser's: an invalid field gets its message from the page's catalog (templates/_validity.html).
// The server checks the same input again and answers in the page with its own messages.
(() => {
  "use strict";
  const source = document.getElementById("validity-texts");
  if (!source) return;
  const texts = JSON.parse(source.textContent);

  function message(field) {
    const v = field.validity;
    if (v.valueMissing) return field.type === "checkbox" ? texts.check : field.tagName === "SELECT" ? texts.choose : texts.required;
    if (v.typeMismatch) return field.type === "email" ? texts.email : texts.type;
    if (v.badInput) return texts.number;
    if (v.rangeUnderflow) return texts.min.replace("{min}", field.min);
    if (v.rangeOverflow) return texts.max.replace("{max}", field.max);
    if (v.stepMismatch) return texts.step;
    if (v.tooShort) return texts.short.replace("{min}", field.minLength);
    if (v.tooLong) return texts.long.replace("{max}", field.maxLength);
    if (v.patternMismatch) return field.title || texts.pattern;
    return texts.other;
  }

  document.addEventListener("invalid", (event) => {
    const field = event.target;
    field.setCustomValidity(""); // let the browser judge the value again, then word what it found
    if (!field.validity.valid) field.setCustomValidity(message(field));
  }, true);
  const clear = (event) => {
    if (typeof event.target.setCustomValidity === "function") event.target.setCustomValidity("");
  };
  document.addEventListener("input", clear, true);
  document.addEventListener("change", clear, true);
})();
