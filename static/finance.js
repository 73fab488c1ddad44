// The budget page's chart (templates/finance/budgets.html): budget and actual per month for each category.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("budget-chart");
  if (!canvas || typeof Chart === "undefined") return;
  const months = JSON.parse(canvas.dataset.months);
  const series = JSON.parse(canvas.dataset.series);
  const budget = JSON.parse(canvas.dataset.budget);
  const actual = JSON.parse(canvas.dataset.actual);
  const datasets = [];
  series.forEach((name, i) => {
    datasets.push({ type: "line", label: `${name} · ${canvas.dataset.budgetLabel}`, data: budget[i].map((f) => f / 100) });
    datasets.push({ type: "bar", label: `${name} · ${canvas.dataset.actualLabel}`, data: actual[i].map((f) => f / 100) });
  });
  new Chart(canvas, {
    data: { labels: months, datasets },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
});
