// The live entry dashboard: htmx-sse swaps the figures in; this keeps the entries-per-minute chart and
// the connection state in step with them.
(() => {
  "use strict";
  const canvas = document.getElementById("per-minute-chart");
  const state = document.getElementById("live-state");
  if (!canvas || !state) return;
  let chart = null;

  function series() {
    const figures = document.getElementById("figures");
    const values = figures.querySelector("script.per-minute");
    const labels = figures.querySelector("script.per-minute-labels");
    return values && labels ? { values: JSON.parse(values.textContent), labels: JSON.parse(labels.textContent) } : null;
  }

  function draw() {
    const data = series();
    if (!data || !window.Chart) return;
    if (!chart) {
      chart = new Chart(canvas, {
        type: "bar",
        data: { labels: data.labels, datasets: [{ label: canvas.dataset.label, data: data.values, backgroundColor: "#1b8a3a" }] },
        options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
      return;
    }
    chart.data.labels = data.labels;
    chart.data.datasets[0].data = data.values;
    chart.update();
  }

  const stream = document.getElementById("live-stream");
  stream.addEventListener("htmx:sseOpen", () => { state.dataset.state = "live"; });
  stream.addEventListener("htmx:sseError", () => { state.dataset.state = "lost"; });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id === "figures") {
      state.dataset.state = "live";
      draw();
    }
  });
  draw();
})();
