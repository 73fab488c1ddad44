// Seat plans (templates/catalog/_seat_plan.html): tap a seat to read its label, class and state; zoom the plan
// inside its own box (it pans by scrolling there), so that the page never grows wider than the screen. The
// zoom chosen is kept when a polled plan replaces the old one.
(() => {
  const STEPS = [0.8, 1.1, 1.5, 1.9, 2.75, 3.5]; // seat sizes in rem
  let zoom = null; // null: the plan's own size; a step index; or "fit" (the whole plan's width in its box)

  const rem = () => parseFloat(getComputedStyle(document.documentElement).fontSize);
  const fitSize = (wrap) => {
    const box = wrap.querySelector(".seat-plan-scroll");
    const plan = wrap.querySelector(".seat-plan");
    const columns = Math.max(1, ...[...plan.children].map((seat) => parseInt(seat.style.gridColumnStart, 10) || 1));
    return Math.max(8, (box.clientWidth - 3 * (columns - 1)) / columns) / rem();
  };
  const size = (wrap) => {
    if (zoom === "fit") return fitSize(wrap);
    return zoom === null ? null : STEPS[zoom];
  };
  const apply = () => {
    document.querySelectorAll(".seat-plan-wrap").forEach((wrap) => {
      const value = size(wrap);
      if (value === null) wrap.style.removeProperty("--seat");
      else wrap.style.setProperty("--seat", `${value}rem`);
    });
  };
  const step = (wrap, delta) => {
    const current = parseFloat(getComputedStyle(wrap).getPropertyValue("--seat")) || STEPS[3];
    if (delta > 0) {
      const bigger = STEPS.findIndex((value) => value > current + 0.01);
      return bigger < 0 ? STEPS.length - 1 : bigger;
    }
    return Math.max(0, STEPS.findLastIndex((value) => value < current - 0.01));
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".seat-zoom button");
    if (button) {
      const wrap = button.closest(".seat-plan-wrap");
      zoom = button.dataset.zoom === "fit" ? "fit" : step(wrap, parseInt(button.dataset.zoom, 10));
      apply();
      return;
    }
    const seat = event.target.closest(".seat-plan .seat");
    if (!seat) return;
    const info = seat.closest(".seat-plan-wrap").querySelector(".seat-info");
    info.textContent = seat.title; // its label · class · state
  });
  document.addEventListener("htmx:afterSettle", apply);
})();
