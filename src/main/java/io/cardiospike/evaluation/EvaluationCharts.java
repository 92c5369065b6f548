package io.cardiospike.evaluation;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/**
 * The report's PNGs in the style of the bench and soak charts (plain headless Java2D, white ground, grey frame and
 * grid, a bold title): the precision-recall curve, per-patient F1 bars, and one recording's RR with labels and flags.
 */
final class EvaluationCharts {
    private static final int WIDTH = 1000, LEFT = 70, RIGHT = 30;
    private static final Color LINE = new Color(31, 119, 180), FLAG = new Color(230, 85, 13),
            LABEL = new Color(214, 39, 40, 45), GRID = new Color(235, 235, 235);

    private EvaluationCharts() {}

    /** A plot area: pixel bounds and the data ranges they show. */
    private record Frame(int left, int top, int width, int height, double x0, double x1, double y0, double y1) {
        int px(double x) {
            return left + (int) Math.round((x - x0) / Math.max(x1 - x0, 1e-12) * width);
        }

        int py(double y) {
            return top + height - (int) Math.round((y - y0) / Math.max(y1 - y0, 1e-12) * height);
        }

        /** Frame, horizontal grid lines with their values on the left, and a title above. */
        void axes(Graphics2D g, String title, int yTicks, String yFormat) {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.BLACK);
            g.drawString(title, left, top - 8);
            for (int k = 0; k <= yTicks; k++) {
                double v = y0 + (y1 - y0) * k / yTicks;
                g.setColor(GRID);
                g.drawLine(left, py(v), left + width, py(v));
                g.setColor(Color.GRAY);
                g.drawString(String.format(Locale.ROOT, yFormat, v), 8, py(v) + 4);
            }
            g.drawRect(left, top, width, height);
        }

        void xTicks(Graphics2D g, int ticks, String format) {
            g.setColor(Color.GRAY);
            for (int k = 0; k <= ticks; k++) {
                double v = x0 + (x1 - x0) * k / ticks;
                String label = String.format(Locale.ROOT, format, v);
                int w = g.getFontMetrics().stringWidth(label);
                g.drawString(label, Math.max(2, Math.min(px(v) - w / 2, WIDTH - w - 2)), top + height + 16);
            }
        }
    }

    /** The curve, with the bundle's operating point (its threshold's precision and recall) marked. */
    static void prCurve(Path png, PrCurve curve, Evaluation.BeatFigures at, double threshold) throws IOException {
        draw(png, 640, "Beat-level precision-recall (dot: the bundle's threshold " + fmt(threshold) + ")", g -> {
            Frame f = new Frame(LEFT, 60, WIDTH - LEFT - RIGHT, 520, 0, 1, 0, 1);
            f.axes(g, String.format(Locale.ROOT, "precision (y) against recall (x), average precision %.3f",
                    curve.averagePrecision()), 5, "%.1f");
            f.xTicks(g, 10, "%.1f");
            g.setColor(LINE);
            g.setStroke(new BasicStroke(1.8f));
            double[] r = curve.recall(), p = curve.precision();
            for (int i = 1; i < r.length; i++) {
                g.drawLine(f.px(r[i - 1]), f.py(p[i - 1]), f.px(r[i]), f.py(p[i]));
            }
            g.setColor(FLAG);
            g.fillOval(f.px(at.recall()) - 5, f.py(at.precision()) - 5, 11, 11);
        });
    }

    /** Beat F1 per patient, lowest first; patients with nothing labelled and nothing flagged have no F1 and no bar. */
    static void patientF1(Path png, List<Evaluation.Patient> patients) throws IOException {
        List<Evaluation.Patient> bars = patients.stream().filter(p -> !Double.isNaN(p.f1()))
                .sorted(Comparator.comparingDouble(Evaluation.Patient::f1)).toList();
        int none = patients.size() - bars.size();
        draw(png, 420, "Beat F1 per patient, lowest first (" + bars.size() + " patients"
                + (none > 0 ? "; " + none + " with nothing labelled or flagged not shown" : "") + ")", g -> {
            Frame f = new Frame(LEFT, 60, WIDTH - LEFT - RIGHT, 300, 0, Math.max(bars.size(), 1), 0, 1);
            f.axes(g, "beat F1", 4, "%.2f");
            double slot = (double) f.width() / Math.max(bars.size(), 1);
            for (int i = 0; i < bars.size(); i++) {
                Evaluation.Patient p = bars.get(i);
                int x = f.left() + (int) (i * slot), w = Math.max(1, (int) (slot * 0.8));
                g.setColor(p.episodeErrors() > 0 ? FLAG : LINE);
                g.fillRect(x, f.py(p.f1()), w, f.py(0) - f.py(p.f1()));
                if (bars.size() <= 40) {
                    g.setColor(Color.GRAY);
                    String id = p.id().length() > 8 ? p.id().substring(0, 8) : p.id();
                    g.drawString(id, x, f.top() + f.height() + 16);
                }
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString("orange: a missed episode or a false alert", f.left(), f.top() + f.height() + 40);
        });
    }

    /** One recording: RR over time with the labelled beats shaded and the flagged beats dotted; its probabilities. */
    static void recording(Path png, Evaluation.Scored s, double threshold) throws IOException {
        double[] t = s.recording().time(), rr = s.recording().rr(), p = s.proba();
        int[] label = s.recording().label(), flag = s.flags();
        int n = rr.length;
        double t0 = n > 0 ? t[0] / 1000 : 0, t1 = n > 0 ? Math.max(t[n - 1] / 1000, t0 + 1) : 1;
        double[] sorted = rr.clone();
        Arrays.sort(sorted);
        // RR axis from the 1st to the 99th percentile: one absurd artifact (40,900 ms) would flatten the rest
        double lo = n > 0 ? Evaluation.percentile(sorted, 0.01) * 0.9 : 0;
        double hi = n > 0 ? Math.max(Evaluation.percentile(sorted, 0.99) * 1.1, lo + 1) : 1;
        draw(png, 640, "Patient " + s.recording().id() + ": RR with labels (shaded) and flags (dots)", g -> {
            Frame f = new Frame(LEFT, 60, WIDTH - LEFT - RIGHT, 330, t0, t1, lo, hi);
            for (int i = 0; i < n; i++) { // label bands first, under the line
                if (label[i] == 1) {
                    int a = f.px(i > 0 ? (t[i - 1] + t[i]) / 2000 : t[i] / 1000);
                    int b = f.px(i + 1 < n ? (t[i] + t[i + 1]) / 2000 : t[i] / 1000);
                    g.setColor(LABEL);
                    g.fillRect(a, f.top(), Math.max(b - a, 1), f.height());
                }
            }
            f.axes(g, "RR (ms), shaded: labelled beats, dots: flagged beats", 4, "%.0f");
            g.setClip(f.left(), f.top(), f.width() + 1, f.height() + 1);
            g.setColor(LINE);
            g.setStroke(new BasicStroke(1.2f));
            for (int i = 1; i < n; i++) {
                g.drawLine(f.px(t[i - 1] / 1000), f.py(rr[i - 1]), f.px(t[i] / 1000), f.py(rr[i]));
            }
            g.setColor(FLAG);
            for (int i = 0; i < n; i++) {
                if (flag[i] == 1) {
                    g.fillOval(f.px(t[i] / 1000) - 3, f.py(Math.min(Math.max(rr[i], lo), hi)) - 3, 7, 7);
                }
            }
            g.setClip(null);
            Frame pf = new Frame(LEFT, 440, WIDTH - LEFT - RIGHT, 150, t0, t1, 0, 1);
            pf.axes(g, "probability (line: threshold " + fmt(threshold) + ")", 2, "%.1f");
            pf.xTicks(g, 8, "%.0f s");
            g.setColor(FLAG);
            g.drawLine(pf.left(), pf.py(threshold), pf.left() + pf.width(), pf.py(threshold));
            g.setColor(LINE);
            for (int i = 1; i < n; i++) {
                g.drawLine(pf.px(t[i - 1] / 1000), pf.py(p[i - 1]), pf.px(t[i] / 1000), pf.py(p[i]));
            }
        });
    }

    private static void draw(Path png, int height, String title, Consumer<Graphics2D> body) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, LEFT, 24);
            body.accept(g);
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
