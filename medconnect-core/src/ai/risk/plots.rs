//! The model cards' ROC and calibration plots, as PNG. They are drawn from the pooled
//! out-of-fold predictions stored in the model, so a model file alone redraws its images,
//! pixel for pixel: no system font is used (the face is compiled in) and no date is written.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::model::{RiskKind, RiskModel};
use crate::error::{Error, Result};

/// DejaVu Sans cut down to ASCII; provenance and licence in `assets/fonts/README.md`.
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-subset.ttf");
const SIZE: (u32, u32) = (640, 600);
const CURVE: RGBColor = RGBColor(31, 90, 170);
const REFERENCE: RGBColor = RGBColor(140, 140, 140);

type Drawing<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// ROC curve of the out-of-fold predictions, with the chance diagonal.
pub fn roc_png(kind: RiskKind, model: &RiskModel) -> Result<Vec<u8>> {
    let pooled = &model.cross_validation.pooled;
    render(|root| {
        let mut chart = chart(root, &format!("{}: ROC curve, 5-fold out-of-fold", kind.as_str()), 1.0)?;
        chart
            .configure_mesh()
            .x_desc("False positive rate (1 - specificity)")
            .y_desc("True positive rate (sensitivity)")
            .draw()?;
        chart
            .draw_series(DashedLineSeries::new([(0.0, 0.0), (1.0, 1.0)], 6, 4, REFERENCE.stroke_width(1)))?
            .label("chance")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], REFERENCE.stroke_width(1)));
        chart
            .draw_series(LineSeries::new(pooled.roc.iter().copied(), CURVE.stroke_width(2)))?
            .label(format!("pooled AUC {:.3}", pooled.roc_auc))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], CURVE.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

/// Observed against predicted risk by decile of predicted risk, with the ideal diagonal.
/// Both axes cover 0 to 1, so no point sits on a border and the diagonal stays at 45°.
pub fn calibration_png(kind: RiskKind, model: &RiskModel) -> Result<Vec<u8>> {
    let bins = &model.cross_validation.pooled.calibration;
    let limit = 1.0;
    let points: Vec<(f64, f64)> = bins.iter().map(|b| (b.mean_predicted, b.observed)).collect();
    render(|root| {
        let mut chart = chart(root, &format!("{}: calibration, 5-fold out-of-fold", kind.as_str()), limit)?;
        chart
            .configure_mesh()
            .x_desc("Mean predicted probability (deciles of predicted risk)")
            .y_desc("Observed frequency")
            .draw()?;
        chart
            .draw_series(DashedLineSeries::new([(0.0, 0.0), (limit, limit)], 6, 4, REFERENCE.stroke_width(1)))?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], REFERENCE.stroke_width(1)));
        chart.draw_series(LineSeries::new(points.iter().copied(), CURVE.stroke_width(2)))?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, CURVE.filled())))?
            .label("out-of-fold deciles")
            .legend(|(x, y)| Circle::new((x + 12, y), 4, CURVE.filled()));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn chart<'a, 'b>(
    root: &'a Drawing<'b>,
    title: &str,
    limit: f64,
) -> std::result::Result<Chart<'a, 'b>, Box<dyn std::error::Error>> {
    Ok(ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..limit, 0.0..limit)?)
}

fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 16))
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Draws on a white RGB canvas and encodes it as PNG.
fn render(draw: impl FnOnce(&Drawing<'_>) -> DrawResult) -> Result<Vec<u8>> {
    register_font()?;
    let (width, height) = SIZE;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        draw(&root).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(png)
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("drawing a model-card plot: {e}"))
}

/// plotters finds faces by family name in a process-wide registry; register ours once.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(Error::internal("the compiled-in plot font cannot be read")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::risk::card::{calibration_plot_path, roc_plot_path};

    fn decode(png: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut pixels).expect("a frame");
        (info, pixels)
    }

    fn pixels_of(colour: RGBColor, pixels: &[u8]) -> usize {
        pixels.chunks(3).filter(|p| *p == [colour.0, colour.1, colour.2]).count()
    }

    #[test]
    fn plots_are_pngs_with_the_curve_drawn_and_are_reproducible() {
        let model = RiskModel::shipped(RiskKind::DiabetesRisk).expect("model");
        for draw in [roc_png, calibration_png] {
            let png = draw(RiskKind::DiabetesRisk, &model).expect("draw");
            let (info, pixels) = decode(&png);
            assert_eq!((info.width, info.height), SIZE);
            // The curve is there (hundreds of pixels of its colour), and so is text: dark pixels
            // beyond the axes' own lines.
            assert!(pixels_of(CURVE, &pixels) > 500, "curve drawn");
            let dark = pixels.chunks(3).filter(|p| p.iter().all(|&c| c < 100)).count();
            assert!(dark > 3_000, "axes, ticks and labels drawn: {dark} dark pixels");
            assert_eq!(draw(RiskKind::DiabetesRisk, &model).expect("again"), png, "byte for byte");
        }
    }

    /// The shipped images are what the shipped models draw (a stale image fails here).
    #[test]
    fn shipped_plots_are_redrawn_byte_for_byte_from_the_shipped_models() {
        let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
        for kind in RiskKind::ALL {
            let model = RiskModel::shipped(kind).expect("model");
            for (path, png) in [
                (roc_plot_path(kind), roc_png(kind, &model)),
                (calibration_plot_path(kind), calibration_png(kind, &model)),
            ] {
                let shipped = std::fs::read(models.join(&path)).expect("shipped plot");
                assert!(png.expect("draw") == shipped, "{path} differs: run `medconnect train`");
            }
        }
    }

    #[test]
    fn a_different_model_draws_a_different_curve() {
        let diabetes = RiskModel::shipped(RiskKind::DiabetesRisk).expect("model");
        let mut flat = RiskModel::shipped(RiskKind::DiabetesRisk).expect("model");
        flat.cross_validation.pooled.roc = vec![(0.0, 0.0), (1.0, 1.0)];
        assert_ne!(
            roc_png(RiskKind::DiabetesRisk, &flat).expect("draw"),
            roc_png(RiskKind::DiabetesRisk, &diabetes).expect("draw")
        );
    }
}
