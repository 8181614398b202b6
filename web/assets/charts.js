// Dashboard charts: window.TeamflowCharts, drawn with Apache ECharts.
//
// Every element with a data-chart attribute gets a chart. The attribute holds JSON:
// {type: "bar" | "line" | "pie" | "funnel", labels: [...], series: [{name, data}], links: [url...]}.
// Clicking a bar, point or slice opens its link (the instance list filtered to it).
// Charts follow the page language (<html lang>), and the element gets data-ready="1" once drawn.

import * as echarts from 'echarts/core';
import { BarChart, FunnelChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([ BarChart, FunnelChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer ]);

const COLOURS = [ '#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#c62828', '#00838f', '#5d4037' ];

function options(spec) {
  const base = { color: COLOURS, tooltip: { trigger: spec.type === 'pie' || spec.type === 'funnel' ? 'item' : 'axis' } };
  if (spec.type === 'pie') {
    return { ...base, series: [ {
      type: 'pie', radius: [ '35%', '65%' ], name: spec.series[0].name,
      label: { formatter: '{b}: {c}' },
      data: spec.labels.map((name, i) => ({ name, value: spec.series[0].data[i] }))
    } ] };
  }
  if (spec.type === 'funnel') {
    return { ...base, series: [ {
      type: 'funnel', sort: 'none', left: '10%', width: '80%', name: spec.series[0].name,
      label: { formatter: '{b}: {c}' },
      data: spec.labels.map((name, i) => ({ name, value: spec.series[0].data[i] }))
    } ] };
  }
  return {
    ...base,
    legend: spec.series.length > 1 ? { top: 0 } : undefined,
    grid: { left: 8, right: 16, top: spec.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: spec.labels, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1 },
    series: spec.series.map((s) => ({ type: spec.type, name: s.name, data: s.data, smooth: false }))
  };
}

function draw(element) {
  let spec;
  try {
    spec = JSON.parse(element.dataset.chart);
  } catch (err) {
    return null;
  }
  const locale = (document.documentElement.lang || '').toLowerCase().startsWith('zh') ? 'ZH' : 'EN';
  const chart = echarts.init(element, null, { renderer: 'svg', locale });
  chart.setOption(options(spec));
  const links = spec.links || [];
  chart.on('click', (params) => {
    const target = links[params.dataIndex];
    if (target) {
      window.location.href = target;
    }
  });
  element.dataset.ready = '1';
  return chart;
}

function drawAll(root = document) {
  const charts = [ ...root.querySelectorAll('[data-chart]') ].map(draw).filter(Boolean);
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  return charts;
}

window.TeamflowCharts = { drawAll };
document.addEventListener('DOMContentLoaded', () => drawAll());
