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
import javax.imageio.ImageIO;

/**
 * The soak's samples as a PNG: one panel per measure against minutes, so growth (or its absence) shows at a glance.
 * Plain Java2D (headless), no plotting dependency.
 */
final class SoakChart {
    /** One panel: a title, a unit, and one or more series over the same sample times. */
    record Panel(String title, String unit, List<Series> series) {}

    record Series(String name, double[] values, Color color) {}

    private static final int WIDTH = 1000, PANEL_HEIGHT = 190, MARGIN_LEFT = 90, MARGIN_RIGHT = 30, TOP = 40;

    private SoakChart() {}

    static void write(Path png, String title, double[] minutes, List<Panel> panels) throws IOException {
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
            double maxMinute = minutes.length == 0 ? 1 : Math.max(minutes[minutes.length - 1], 1e-9);
            for (int p = 0; p < panels.size(); p++) {
                drawPanel(g, panels.get(p), minutes, maxMinute, TOP + p * PANEL_HEIGHT, p == panels.size() - 1);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    private static void drawPanel(Graphics2D g, Panel panel, double[] minutes, double maxMinute, int top,
                                  boolean last) {
        int plotTop = top + 22, plotHeight = PANEL_HEIGHT - 50, plotWidth = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
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
            g.drawString(String.format(Locale.ROOT, "%.3g", max * k / 4), 8, y + 4);
            g.setColor(new Color(235, 235, 235));
        }
        g.setColor(Color.GRAY);
        g.drawRect(MARGIN_LEFT, plotTop, plotWidth, plotHeight);
        if (last) {
            for (int k = 0; k <= 5; k++) {
                int x = MARGIN_LEFT + k * plotWidth / 5;
                g.drawString(String.format(Locale.ROOT, maxMinute < 10 ? "%.1f min" : "%.0f min", maxMinute * k / 5),
                        x - 14, plotTop + plotHeight + 16);
            }
        }
        g.setStroke(new BasicStroke(1.8f));
        for (Series s : panel.series()) {
            g.setColor(s.color());
            double[] v = s.values();
            for (int i = 1; i < v.length && i < minutes.length; i++) {
                g.drawLine(MARGIN_LEFT + (int) (minutes[i - 1] / maxMinute * plotWidth),
                        plotTop + plotHeight - (int) (v[i - 1] / max * plotHeight),
                        MARGIN_LEFT + (int) (minutes[i] / maxMinute * plotWidth),
                        plotTop + plotHeight - (int) (v[i] / max * plotHeight));
            }
        }
        g.setStroke(new BasicStroke(1f));
    }
}
