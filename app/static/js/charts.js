// Scoreboard charts: reads the figures the page embeds (#chart-data) and draws them with the global `echarts`
// (served from /static/vendor). The tables on the page carry the same figures for readers without JavaScript.
(function () {
  'use strict';
  var source = document.getElementById('chart-data');
  if (!source || typeof window.echarts === 'undefined') { return; }
  var data = JSON.parse(source.textContent);
  var font = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var charts = [];

  function draw(name, option) {
    var node = document.querySelector('[data-chart="' + name + '"]');
    if (!node) { return; }
    var chart = window.echarts.init(node);
    option.textStyle = { fontFamily: font };
    option.tooltip = option.tooltip || { trigger: 'axis' };
    chart.setOption(option);
    charts.push(chart);
  }

  var trend = data.trend;
  if (trend) draw('trend', {
    legend: { top: 0, data: ['新增案件', '销号案件'] },
    grid: { left: 40, right: 20, bottom: 30, top: 40 },
    xAxis: { type: 'category', data: trend.months },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '新增案件', type: 'bar', data: trend.opened, itemStyle: { color: '#b42318' } },
      { name: '销号案件', type: 'bar', data: trend.closed, itemStyle: { color: '#067647' } }
    ]
  });

  var compare = data.compare || {};
  function bars(name, series, axis) {
    draw(name, {
      legend: { top: 0, data: series.map(function (item) { return item.name; }) },
      grid: { left: 110, right: 40, bottom: 30, top: 40 },
      xAxis: axis,
      yAxis: { type: 'category', data: compare.units, inverse: true },
      series: series.map(function (item) {
        return { name: item.name, type: 'bar', data: item.data, itemStyle: { color: item.color } };
      })
    });
  }
  if (data.compare) bars('compare-counts', [
    { name: '在办案件', data: compare.open_cases, color: '#5470c6' },
    { name: '逾期任务', data: compare.overdue_tasks, color: '#b42318' }
  ], { type: 'value', minInterval: 1, name: '件' });
  if (data.compare) bars('compare-rates', [
    { name: '排查覆盖率', data: compare.village_coverage, color: '#91cc75' },
    { name: '措施按时完成率', data: compare.on_time, color: '#fac858' }
  ], { type: 'value', max: 100, name: '%' });

  // 预警统计: one chart per channel of finding risk, month by month.
  (data.channels || []).forEach(function (channel) {
    draw('channel-' + channel.key, {
      title: { text: channel.label, left: 'center', textStyle: { fontSize: 14 } },
      legend: { top: 24, data: ['发现', '核实属实', '纳入监测'] },
      grid: { left: 40, right: 20, bottom: 30, top: 60 },
      xAxis: { type: 'category', data: channel.months },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '发现', type: 'bar', data: channel.found, itemStyle: { color: '#5470c6' } },
        { name: '核实属实', type: 'bar', data: channel.verified, itemStyle: { color: '#fac858' } },
        { name: '纳入监测', type: 'bar', data: channel.identified, itemStyle: { color: '#b42318' } }
      ]
    });
  });

  window.addEventListener('resize', function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
}());
