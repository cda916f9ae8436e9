// Draw each coverage's monthly lines (data from json_script; Chart.js shipped by django-unfold).
(function () {
  "use strict";
  var colours = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2",
    "#db2777", "#65a30d", "#475569", "#ea580c", "#0d9488", "#9333ea"];
  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          var colour = colours[i % colours.length];
          return { label: s.name, data: s.points, borderColor: colour, backgroundColor: colour,
                   spanGaps: false, tension: 0.2, pointRadius: 3 };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: data.axis } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }
  function start() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();
