// The ECharts of the overview, report and indicator pages. A holder names its kind in data-chart; its
// figures come from <script type="application/json" id="HOLDER-ID-data"> (never inline code: the CSP).
(function () {
  "use strict";
  var ACCENT = "#0b6e99";

  var builders = {
    // {data: [{name, value}]}
    pie: function (d) {
      return { tooltip: {}, series: [{ type: "pie", radius: ["40%", "70%"], data: d.data }] };
    },
    // {labels, values, unit}
    bars: function (d) {
      return {
        tooltip: {}, xAxis: { type: "category", data: d.labels }, yAxis: { type: "value", name: d.unit },
        series: [{ type: "bar", data: d.values, itemStyle: { color: ACCENT } }]
      };
    },
    // {codes, participation[, titles]}: per cent per program or session; a title names the bar where
    // there is one (in the page's language), the code otherwise
    participation: function (d) {
      return {
        tooltip: {}, grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.titles || d.codes, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: [{ type: "bar", data: d.participation, itemStyle: { color: ACCENT } }]
      };
    },
    // {series: [{name, labels, counts}]}: score distribution per assessment kind
    scores: function (d) {
      return {
        tooltip: {}, legend: {},
        grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.series[0].labels },
        yAxis: { type: "value", minInterval: 1 },
        series: d.series.map(function (s) { return { name: s.name, type: "bar", data: s.counts }; })
      };
    },
    // {name, labels, values, unit, mark}: a group's metric week by week, the week named by mark marked
    weekly: function (d) {
      return {
        title: { text: d.name, textStyle: { fontSize: 12 } },
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + d.unit; } },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.labels, axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", scale: true, axisLabel: { formatter: "{value}" + d.unit } },
        series: [{ type: "line", data: d.values, connectNulls: false, showSymbol: false, itemStyle: { color: ACCENT },
                   markLine: { symbol: "none", lineStyle: { type: "dashed" }, label: { formatter: d.mark }, data: [{ xAxis: d.mark }] } }]
      };
    },
    // {labels, series: [{name, values}]}: a per-cent figure month by month, one line per group
    trend: function (d) {
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } }, legend: {},
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: d.series.map(function (s) { return { name: s.name, type: "line", data: s.values, connectNulls: false }; })
      };
    },
    // {names, shares}: share of people meeting each indicator
    // {labels, series: [{name, values}]}: the share of a video's viewers who watched each part of it
    dropoff: function (d) {
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } }, legend: {},
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.labels, name: d.axis },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: d.series.map(function (s) { return { name: s.name, type: "line", data: s.values, showSymbol: false }; })
      };
    },
    shares: function (d) {
      return {
        tooltip: { valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
        grid: { left: 8, right: 56, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        yAxis: { type: "category", data: d.names, inverse: true },
        series: [{ type: "bar", data: d.shares, itemStyle: { color: ACCENT }, label: { show: true, position: "right", formatter: "{c}%" } }]
      };
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (holder) {
      var build = builders[holder.getAttribute("data-chart")];
      var source = document.getElementById(holder.id + "-data");
      if (!build || !source) return;
      echarts.init(holder).setOption(build(JSON.parse(source.textContent)));
    });
  });
})();
