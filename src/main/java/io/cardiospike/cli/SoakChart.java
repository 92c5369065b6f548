package io.cardiospike.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;
import javax.imageio.ImageIO;

/**
 * Samples as a PNG: one panel per measure against a shared x axis (the soak's minutes, the size sweep's patients), so
 * growth (or its absence) shows at a glance. Plain Java2D (headless), no plotting dependency.
 */
final class SoakChart {
    /** One panel: a title, a unit, and one or more series over the same sample times. */
    record Panel(String title, String unit, List<Series> series) {}

    record Series(String name, double[] values, Color color) {}

    /** Where the samples lie on x, and the labelled ticks; the axis runs from the first tick to the last. */
    record XAxis(double[] values, double[] ticks, DoubleFunction<String> label) {
        /** Minutes from 0 to the last sample, six ticks. */
        static XAxis minutes(double[] minutes) {
            double max = minutes.length == 0 ? 1 : Math.max(minutes[minutes.length - 1], 1e-9);
            double[] ticks = new double[6];
            for (int k = 0; k <= 5; k++) {
                ticks[k] = max * k / 5;
            }
            return new XAxis(minutes, ticks, m -> String.format(Locale.ROOT, max < 10 ? "%.1f min" : "%.0f min", m));
        }
    }

    private static final int WIDTH = 1000, PANEL_HEIGHT = 190, MARGIN_LEFT = 90, MARGIN_RIGHT = 30, TOP = 40;

    private SoakChart() {}

    static void write(Path png, String title, double[] minutes, List<Panel> panels) throws IOException {
        write(png, title, XAxis.minutes(minutes), panels);
    }

    static void write(Path png, String title, XAxis x, List<Panel> panels) throws IOException {
        int height = TOP + panels.size() * PANEL_HEIGHT + 30;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, MARGIN_LEFT, 24);
            for (int p = 0; p < panels.size(); p++) {
                drawPanel(g, panels.get(p), x, TOP + p * PANEL_HEIGHT, p == panels.size() - 1);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    private static void drawPanel(Graphics2D g, Panel panel, XAxis x, int top, boolean last) {
        int plotTop = top + 22, plotHeight = PANEL_HEIGHT - 50, plotWidth = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
        double x0 = x.ticks()[0], span = Math.max(x.ticks()[x.ticks().length - 1] - x0, 1e-9);
        java.util.function.DoubleToIntFunction px = v -> MARGIN_LEFT + (int) ((v - x0) / span * plotWidth);
        double max = 0;
        for (Series s : panel.series()) {
            for (double v : s.values()) {
                max = Math.max(max, v);
            }
        }
        max = max <= 0 ? 1 : max * 1.1;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.BLACK);
        g.drawString(panel.title() + " (" + panel.unit() + ")", MARGIN_LEFT, top + 14);
        int legendX = MARGIN_LEFT + 420;
        for (Series s : panel.series()) {
            g.setColor(s.color());
            g.fillRect(legendX, top + 5, 12, 8);
            g.setColor(Color.DARK_GRAY);
            g.drawString(s.name(), legendX + 16, top + 14);
            legendX += 30 + g.getFontMetrics().stringWidth(s.name());
        }
        g.setColor(new Color(235, 235, 235));
        for (int k = 0; k <= 4; k++) {
            int y = plotTop + plotHeight - k * plotHeight / 4;
            g.drawLine(MARGIN_LEFT, y, MARGIN_LEFT + plotWidth, y);
            g.setColor(Color.GRAY);
            double value = max * k / 4;
            g.drawString(String.format(Locale.ROOT, value >= 1000 ? "%,.0f" : "%.3g", value), 8, y + 4);
            g.setColor(new Color(235, 235, 235));
        }
        g.setColor(Color.GRAY);
        g.drawRect(MARGIN_LEFT, plotTop, plotWidth, plotHeight);
        if (last) {
            for (double tick : x.ticks()) {
                String label = x.label().apply(tick);
                int w = g.getFontMetrics().stringWidth(label); // centred on its tick, inside the image
                int lx = Math.max(2, Math.min(px.applyAsInt(tick) - w / 2, WIDTH - w - 2));
                g.drawString(label, lx, plotTop + plotHeight + 16);
            }
        }
        g.setStroke(new BasicStroke(1.8f));
        for (Series s : panel.series()) {
            g.setColor(s.color());
            double[] v = s.values(), at = x.values();
            for (int i = 0; i < v.length && i < at.length; i++) {
                int xi = px.applyAsInt(at[i]), yi = plotTop + plotHeight - (int) (v[i] / max * plotHeight);
                if (i > 0) {
                    g.drawLine(px.applyAsInt(at[i - 1]), plotTop + plotHeight - (int) (v[i - 1] / max * plotHeight),
                            xi, yi);
                }
                if (at.length <= 20) { // a few measured points: mark them
                    g.fillOval(xi - 3, yi - 3, 7, 7);
                }
            }
        }
        g.setStroke(new BasicStroke(1f));
    }
}
