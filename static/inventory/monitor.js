// The live stock monitor: htmx-sse swaps the figures in; this keeps the stacked stock chart (sold, held,
// remaining per class and channel) and the connection state in step with them.
(() => {
  "use strict";
  const canvas = document.getElementById("stock-chart");
  const state = document.getElementById("live-state");
  if (!canvas || !state) return;
  let chart = null;

  function series() {
    const script = document.querySelector("#figures script.stock-series");
    return script ? JSON.parse(script.textContent) : null;
  }

  function draw() {
    const data = series();
    if (!data || !window.Chart) return;
    const sets = [
      { label: canvas.dataset.sold, data: data.sold, backgroundColor: "#1b8a3a" },
      { label: canvas.dataset.held, data: data.held, backgroundColor: "#d98e04" },
      { label: canvas.dataset.remaining, data: data.remaining, backgroundColor: "#9aa5b1" },
    ];
    if (!chart) {
      chart = new Chart(canvas, {
        type: "bar",
        data: { labels: data.labels, datasets: sets },
        options: {
          animation: false, responsive: true, indexAxis: "y",
          scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
        },
      });
      return;
    }
    chart.data.labels = data.labels;
    sets.forEach((set, i) => { chart.data.datasets[i].data = set.data; });
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
  window.addEventListener("load", draw);
  draw();
})();
