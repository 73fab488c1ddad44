// The dry run's chart (templates/sessionchange/_figures.html): the money by payment method and channel.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("dry-run-chart");
  if (!canvas || typeof Chart === "undefined") return;
  const methods = JSON.parse(canvas.dataset.labels);
  const values = JSON.parse(canvas.dataset.values).map((fen) => fen / 100);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: methods,
      datasets: [{ label: canvas.dataset.label, data: values }],
    },
    options: { animation: false, plugins: { legend: { display: false } } },
  });
});
