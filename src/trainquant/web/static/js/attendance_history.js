// An employee's participation per session, with the session's minimum as a dashed line.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var holder = document.getElementById("chart-participation");
  var data = document.getElementById("history-chart-data");
  if (!holder || !data || !window.echarts) return;
  var c = JSON.parse(data.textContent);
  echarts.init(holder).setOption({
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    legend: { data: [c.series, c.target_name] },
    grid: { left: 40, right: 16, top: 36, bottom: 40 },
    xAxis: { type: "category", data: c.labels, axisLabel: { fontSize: 11 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: c.series, type: "line", data: c.values, symbolSize: 8, itemStyle: { color: "#0b6e99" }, areaStyle: { opacity: 0.08 } },
      { name: c.target_name, type: "line", data: c.target, symbol: "none", lineStyle: { type: "dashed", color: "#d64545" }, itemStyle: { color: "#d64545" } }
    ]
  });
});
