// The real-name compliance chart: each session's share of its approved capacity on public sale, against the
// required minimum (a line). The figures are the page's own JSON (the table beside it shows the same).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("realname-chart");
  const source = document.getElementById("realname-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: canvas.dataset.public, data: data.public, backgroundColor: data.public.map((v) => (v >= data.minimum ? "#1b8a3a" : "#c0392b")) },
        { type: "line", label: canvas.dataset.minimum, data: data.labels.map(() => data.minimum), borderColor: "#333", pointRadius: 0 },
      ],
    },
    options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, max: 100 } } },
  });
});
