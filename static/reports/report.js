// The report page's chart: Chart.js draws the data the server put beside the canvas, again after each
// htmx swap of the report (new filters).
(() => {
  "use strict";
  let chart = null;
  const palette = ["#1f6feb", "#d1242f", "#1b8a3a", "#bf8700", "#8250df", "#0a7ea4", "#cf222e", "#57606a"];

  function draw() {
    const canvas = document.getElementById("report-chart");
    const source = document.getElementById("report-chart-data");
    if (chart) { chart.destroy(); chart = null; }
    if (!canvas || !source || !window.Chart) return;
    const spec = JSON.parse(source.textContent);
    spec.datasets.forEach((d, i) => {
      d.backgroundColor = palette[i % palette.length];
      d.borderColor = palette[i % palette.length];
    });
    chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        responsive: true,
        scales: { x: { stacked: spec.stacked }, y: { stacked: spec.stacked, beginAtZero: true } },
      },
    });
    canvas.dataset.drawn = "true";
  }

  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id === "report") draw();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
