package brain2img.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * A procedural scene for the synthetic brain: a plain background and one to three shapes (circle, square,
 * triangle) with a colour, a size, a position on a 3×3 grid and a texture (plain or striped). It renders to
 * 8-bit RGB, describes itself in captions, and exposes the semantic attributes the higher-visual voxels are
 * tuned to.
 */
record SynthScene(int background, List<Shape> shapes) {
    static final String[] KINDS = {"circle", "square", "triangle"};
    static final String[] COLOURS = {"red", "green", "blue", "yellow", "white", "black"};
    static final int[][] RGB = {{220, 40, 40}, {40, 180, 60}, {40, 70, 220}, {235, 210, 40}, {240, 240, 240}, {20, 20, 20}};
    static final String[] BACKGROUNDS = {"grey", "dark", "beige"};
    static final int[][] BG_RGB = {{128, 128, 128}, {50, 50, 60}, {215, 200, 170}};
    static final String[] PLACES = {"at the top left", "at the top", "at the top right", "on the left", "in the centre",
            "on the right", "at the bottom left", "at the bottom", "at the bottom right"};
    /** Length of {@link #attributes()}: kinds, colours, large, small, striped, count, mean x, mean y, backgrounds. */
    static final int ATTRIBUTES = KINDS.length + COLOURS.length + 6 + BACKGROUNDS.length;

    /** A shape: centre (cx, cy) in [0,1] image coordinates (y down), radius as a fraction of the side. */
    record Shape(int kind, int colour, boolean large, int place, boolean striped, double cx, double cy) {
        double radius() { return large ? 0.24 : 0.12; }
    }

    static SynthScene random(RandomGenerator rng) {
        int n = 1 + rng.nextInt(3);
        List<Shape> shapes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int place = rng.nextInt(9);
            double cx = (place % 3 + 0.5) / 3 + (rng.nextDouble() - 0.5) * 0.08;
            double cy = (place / 3 + 0.5) / 3 + (rng.nextDouble() - 0.5) * 0.08;
            shapes.add(new Shape(rng.nextInt(KINDS.length), rng.nextInt(COLOURS.length), rng.nextBoolean(), place,
                    rng.nextInt(3) == 0, cx, cy));
        }
        return new SynthScene(rng.nextInt(BACKGROUNDS.length), List.copyOf(shapes));
    }

    /** Renders to interleaved 8-bit RGB, row-major: out[(y*size + x)*3 + c]. */
    byte[] render(int size) {
        byte[] out = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int[] c = BG_RGB[background];
                double px = (x + 0.5) / size, py = (y + 0.5) / size;
                for (Shape s : shapes) { // later shapes are drawn over earlier ones
                    if (inside(s, px - s.cx(), py - s.cy())) {
                        c = RGB[s.colour()];
                        // stripes: diagonal bands at a period of 1/10 of the image, drawn at 45 % brightness
                        if (s.striped() && ((int) Math.floor((px + py) * 10)) % 2 == 0) c = dim(c);
                    }
                }
                int o = (y * size + x) * 3;
                out[o] = (byte) c[0];
                out[o + 1] = (byte) c[1];
                out[o + 2] = (byte) c[2];
            }
        }
        return out;
    }

    private static int[] dim(int[] c) {
        return new int[]{c[0] * 45 / 100, c[1] * 45 / 100, c[2] * 45 / 100};
    }

    private static boolean inside(Shape s, double dx, double dy) {
        double r = s.radius();
        return switch (s.kind()) {
            case 0 -> dx * dx + dy * dy <= r * r;
            case 1 -> Math.abs(dx) <= 0.85 * r && Math.abs(dy) <= 0.85 * r;
            default -> dy >= -r && dy <= r && Math.abs(dx) <= (dy + r) / 2; // apex up
        };
    }

    /** Three captions: a full description, a shorter one without places, and a count. */
    List<String> captions() {
        List<String> parts = new ArrayList<>(), plain = new ArrayList<>();
        for (Shape s : shapes) {
            String noun = (s.large() ? "large " : "small ") + (s.striped() ? "striped " : "") + COLOURS[s.colour()] + " " + KINDS[s.kind()];
            parts.add(article(noun) + " " + noun + " " + PLACES[s.place()]);
            plain.add(article(COLOURS[s.colour()]) + " " + COLOURS[s.colour()] + " " + KINDS[s.kind()]);
        }
        String bg = BACKGROUNDS[background];
        int n = shapes.size();
        return List.of(
                join(parts) + " on a " + bg + " background",
                "a picture of " + join(plain),
                (n == 1 ? "one shape" : (n == 2 ? "two shapes" : "three shapes")) + " on a " + bg + " background");
    }

    private static String article(String word) {
        return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }

    private static String join(List<String> items) {
        if (items.size() == 1) return items.get(0);
        return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.get(items.size() - 1);
    }

    /** The semantic attributes higher-visual voxels respond to, each in [0,1]. */
    double[] attributes() {
        double[] a = new double[ATTRIBUTES];
        int k = 0;
        double mx = 0, my = 0;
        boolean large = false, small = false, striped = false;
        for (Shape s : shapes) {
            a[s.kind()] = 1;
            a[KINDS.length + s.colour()] = 1;
            large |= s.large();
            small |= !s.large();
            striped |= s.striped();
            mx += s.cx() / shapes.size();
            my += s.cy() / shapes.size();
        }
        k = KINDS.length + COLOURS.length;
        a[k++] = large ? 1 : 0;
        a[k++] = small ? 1 : 0;
        a[k++] = striped ? 1 : 0;
        a[k++] = shapes.size() / 3.0;
        a[k++] = mx;
        a[k++] = my;
        a[k + background] = 1;
        return a;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s", captions().get(0));
    }
}
