package dev.outpost.bench.load;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import javax.imageio.ImageIO;

/**
 * Throughput and latency over time as a PNG, drawn with java.awt so the bench module needs no charting library.
 * Needs no display: the generator sets java.awt.headless.
 */
final class Plot {
    private static final int W = 1000;
    private static final int PANEL = 280;
    private static final int MARGIN = 60;

    private Plot() {
    }

    /** @param perSecond rows of {count, p50 µs, p99 µs}, one per second */
    static void write(Path file, String title, String what, long[][] perSecond) throws IOException {
        BufferedImage img = new BufferedImage(W, 2 * PANEL + 2 * MARGIN, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, MARGIN, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        double[] count = column(perSecond, 0, 1);
        double[] p50 = column(perSecond, 1, 1000);
        double[] p99 = column(perSecond, 2, 1000);
        panel(g, MARGIN / 2 + 10, what + "/s", new double[][] {count}, new Color[] {new Color(0x1f77b4)},
                new String[] {"completed"});
        panel(g, MARGIN / 2 + PANEL + MARGIN, what + " latency (ms)", new double[][] {p50, p99},
                new Color[] {new Color(0x2ca02c), new Color(0xd62728)}, new String[] {"p50", "p99"});
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static double[] column(long[][] rows, int c, double divisor) {
        double[] out = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i][c] / divisor;
        }
        return out;
    }

    private static void panel(Graphics2D g, int top, String label, double[][] series, Color[] colors, String[] names) {
        int left = MARGIN;
        int width = W - 2 * MARGIN;
        int height = PANEL - 30;
        int n = series[0].length;
        double max = 1;
        for (double[] s : series) {
            for (double v : s) {
                max = Math.max(max, v);
            }
        }
        max *= 1.1;
        g.setColor(Color.BLACK);
        g.drawString(label, left, top + 12);
        int y0 = top + 20;
        g.setColor(new Color(0xdddddd));
        for (int t = 0; t <= 4; t++) {
            int y = y0 + height - t * height / 4;
            g.drawLine(left, y, left + width, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format("%.1f", max * t / 4), 5, y + 4);
            g.setColor(new Color(0xdddddd));
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, y0, width, height);
        for (int s = 0; s <= n; s += Math.max(1, n / 10)) {
            int x = left + (n <= 1 ? 0 : s * width / Math.max(1, n - 1));
            g.drawString(s + " s", Math.min(x, left + width - 20), y0 + height + 14);
        }
        g.setStroke(new BasicStroke(2f));
        for (int k = 0; k < series.length; k++) {
            g.setColor(colors[k]);
            g.drawString(names[k], left + width - 120 + 60 * k, top + 12);
            for (int i = 1; i < n; i++) {
                g.drawLine(x(i - 1, n, left, width), y(series[k][i - 1], max, y0, height),
                        x(i, n, left, width), y(series[k][i], max, y0, height));
            }
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static int x(int i, int n, int left, int width) {
        return left + (n <= 1 ? 0 : i * width / (n - 1));
    }

    private static int y(double v, double max, int y0, int height) {
        return y0 + height - (int) (v / max * height);
    }
}
