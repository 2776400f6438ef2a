//! Charts drawn by the server as SVG with plotters' SVG backend: no JavaScript, no fonts on the server
//! (text stays text for the browser to render), printable as part of the page.

use plotters::prelude::*;

const MET: RGBColor = RGBColor(46, 125, 50);
const NOT_MET: RGBColor = RGBColor(229, 115, 115);

/// One bar: its label, the part that met the requirement, and the whole.
pub struct Bar {
    pub label: String,
    pub met: i64,
    pub total: i64,
}

/// Stacked bars (met below, not met above), one per category, with a legend.
pub fn met_bars(title: &str, bars: &[Bar]) -> Result<String, String> {
    let placeholder = [Bar { label: "暂无数据".to_owned(), met: 0, total: 0 }];
    let bars = if bars.is_empty() { &placeholder[..] } else { bars };
    let width = u32::try_from(bars.len()).unwrap_or(u32::MAX).saturating_mul(110).saturating_add(180).clamp(640, 1600);
    let max = bars.iter().map(|b| b.total).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(56)
            // (A range is closed at both ends in plotters: n bars are 0..=n-1.)
            .build_cartesian_2d((0..bars.len() - 1).into_segmented(), 0..(max + max / 8 + 1))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len())
            .x_label_formatter(&|value| match value {
                SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.label.clone()).unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc("人数")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())?;
        let bar = |i: usize, from: i64, to: i64, color: RGBColor| {
            let mut rectangle = Rectangle::new([(SegmentValue::Exact(i), from), (SegmentValue::Exact(i + 1), to)], color.filled());
            rectangle.set_margin(0, 0, 14, 14);
            rectangle
        };
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| bar(i, 0, b.met, MET)))
            .map_err(|e| e.to_string())?
            .label("已达标")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], MET.filled()));
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| bar(i, b.met, b.total, NOT_MET)))
            .map_err(|e| e.to_string())?
            .label("未达标")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], NOT_MET.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
