package brain2img.data;

import brain2img.io.Json;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link Synth.Design} as a miniature NSD release for subject 1, in the real file formats and axis
 * conventions (shared/docs/nsd-format.md): nsd_expdesign.mat (MAT v5, compressed, integer doubles stored as
 * uint8/uint16 as MATLAB does), responses.tsv, betas per session alternating .nii.gz (X×Y×Z×T) and .hdf5
 * (/betas T×Z×Y×X), int16 = PSC × 300, ROI volumes as float64 NIfTI with −1/0/labels and their ctab files,
 * ncsnr.nii.gz, nsd_stimuli.hdf5 (imgBrick images×H×W×3), nsd_stim_info_merged.csv and COCO-style captions.
 * Importing it must give back exactly the data set {@link Synth} writes for the same options.
 */
final class SynthNsdTree {
    static final String MARKER = "SYNTHETIC_NSD_README.txt";
    static final String[] PRF_VISUALROIS = {"Unknown", "V1v", "V1d", "V2v", "V2d", "V3v", "V3d", "hV4"};

    private SynthNsdTree() {}

    static void write(Path root, Synth.Design d) throws IOException {
        if (Files.exists(root)) {
            try (java.util.stream.Stream<Path> s = Files.list(root)) {
                if (s.findAny().isPresent()) throw new IllegalArgumentException(root + ": already exists and is not empty (choose another --out)");
            }
        }
        Path exp = root.resolve("nsddata/experiments/nsd"), ppdata = root.resolve("nsddata/ppdata/subj01");
        Path betas = root.resolve("nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR");
        Path roi = ppdata.resolve("func1pt8mm/roi"), label = root.resolve("nsddata/freesurfer/subj01/label");
        Path stim = root.resolve("nsddata_stimuli/stimuli/nsd");
        for (Path p : List.of(exp, ppdata.resolve("behav"), betas, roi, label, stim.resolve("annotations"))) Files.createDirectories(p);
        Files.writeString(root.resolve(MARKER), "SYNTHETIC DATA written by brain2img data synth --nsd-layout (options: "
                + d.options() + "). Procedural scenes and simulated voxels in the NSD file layout; not fMRI.\n");

        Synth.Options o = d.options();
        int n = o.images();
        // 10k-ID space of the subject: test (shared) images first, ascending; then training images, descending
        List<Integer> tenK = new ArrayList<>();
        for (int i = 0; i < n; i++) if (d.isTest()[i]) tenK.add(i);
        int nShared = tenK.size();
        for (int i = n - 1; i >= 0; i--) if (!d.isTest()[i]) tenK.add(i);
        int[] tenKOf = new int[n];
        for (int k = 0; k < n; k++) tenKOf[tenK.get(k)] = k + 1;
        double[] subjectim = new double[n], sharedix = new double[nShared], master = new double[d.trials()];
        for (int k = 0; k < n; k++) subjectim[k] = tenK.get(k) + 1; // 73KID = image id + 1
        for (int k = 0; k < nShared; k++) sharedix[k] = tenK.get(k) + 1;
        for (int t = 0; t < d.trials(); t++) master[t] = tenKOf[d.trialImage()[t]];
        MatFile.write(exp.resolve("nsd_expdesign.mat"), true,
                new MatFile.Var("masterordering", new int[]{1, master.length}, "double", master),
                new MatFile.Var("sharedix", new int[]{1, nShared}, "double", sharedix),
                new MatFile.Var("subjectim", new int[]{1, n}, "double", subjectim));

        writeResponsesTsv(ppdata.resolve("behav/responses.tsv"), d, tenKOf);
        SynthBrain b = d.brain();
        int[] dims = b.volume;
        int[] fortran = new int[b.linearIndex.length]; // voxel j → x + X*(y + Y*z)
        for (int j = 0; j < fortran.length; j++) {
            int li = b.linearIndex[j], z = li % dims[2], y = (li / dims[2]) % dims[1], x = li / (dims[1] * dims[2]);
            fortran[j] = x + dims[0] * (y + dims[1] * z);
        }
        writeBetas(betas, d, dims, fortran);
        writeVolume(betas.resolve("ncsnr.nii.gz"), dims, fortran, b.ncsnr, Nifti.FLOAT32, 0f);
        float[] general = new float[fortran.length], streams = new float[fortran.length], prf = new float[fortran.length];
        for (int j = 0; j < fortran.length; j++) {
            general[j] = 1;
            streams[j] = b.early[j] ? 1 : 5;
            prf[j] = b.visualArea[j];
        }
        writeVolume(roi.resolve("nsdgeneral.nii.gz"), dims, fortran, general, Nifti.FLOAT64, -1f);
        writeVolume(roi.resolve("streams.nii.gz"), dims, fortran, streams, Nifti.FLOAT64, -1f);
        writeVolume(roi.resolve("prf-visualrois.nii.gz"), dims, fortran, prf, Nifti.FLOAT64, -1f);
        writeCtab(label.resolve("streams.mgz.ctab"), NsdImporter.STREAMS);
        writeCtab(label.resolve("prf-visualrois.mgz.ctab"), PRF_VISUALROIS);
        writeStimuli(stim.resolve("nsd_stimuli.hdf5"), d);
        writeCaptions(exp.resolve("nsd_stim_info_merged.csv"), stim.resolve("annotations"), d);
    }

    private static void writeResponsesTsv(Path f, Synth.Design d, int[] tenKOf) throws IOException {
        StringBuilder sb = new StringBuilder("SUBJECT\tSESSION\tRUN\tTRIAL\t73KID\t10KID\tTIME\tISOLD\tISCORRECT\tRT\tCHANGEMIND\t"
                + "MEMORYRECENT\tMEMORYFIRST\tISOLDCURRENT\tISCORRECTCURRENT\tTOTAL1\tTOTAL2\tBUTTON\tMISSINGDATA\n");
        int pos = 0, prevSession = -1;
        for (int t = 0; t < d.trials(); t++) {
            int s = d.trialSession()[t];
            pos = s == prevSession ? pos + 1 : 0;
            prevSession = s;
            int img = d.trialImage()[t];
            int rep = d.trialRep()[t];
            sb.append(1).append('\t').append(s).append('\t').append(1 + pos / 63).append('\t').append(1 + pos % 63).append('\t')
                    .append(img + 1).append('\t').append(tenKOf[img]).append('\t').append(String.format(Locale.ROOT, "%.20g", 0.5 + t * 1e-3)).append('\t')
                    .append(rep > 0 ? 1 : 0).append("\tNaN\tNaN\tNaN\tNaN\tNaN\t0\tNaN\t0\t0\tNaN\t0\n");
        }
        Files.writeString(f, sb, StandardCharsets.UTF_8);
    }

    /** Odd sessions as .nii.gz (X×Y×Z×T), even ones as .hdf5 (/betas T×Z×Y×X), int16 = PSC × 300, 0 outside the brain. */
    private static void writeBetas(Path dir, Synth.Design d, int[] dims, int[] fortran) throws IOException {
        int plane = dims[0] * dims[1] * dims[2];
        for (int s = 1; s <= d.sessions(); s++) {
            List<Integer> ts = new ArrayList<>();
            for (int t = 0; t < d.trials(); t++) if (d.trialSession()[t] == s) ts.add(t);
            int nt = ts.size();
            String base = String.format(Locale.ROOT, "betas_session%02d", s);
            if (s % 2 == 1) {
                float[] data = new float[Math.multiplyExact(plane, nt)];
                for (int k = 0; k < nt; k++) {
                    short[] r = d.response(ts.get(k));
                    for (int j = 0; j < fortran.length; j++) data[k * plane + fortran[j]] = r[j];
                }
                Nifti.write(dir.resolve(base + ".nii.gz"), new int[]{dims[0], dims[1], dims[2], nt}, Nifti.INT16, data, 0f, 0f);
            } else {
                short[][][][] data = new short[nt][dims[2]][dims[1]][dims[0]];
                for (int k = 0; k < nt; k++) {
                    short[] r = d.response(ts.get(k));
                    for (int j = 0; j < fortran.length; j++) {
                        int fi = fortran[j], x = fi % dims[0], y = (fi / dims[0]) % dims[1], z = fi / (dims[0] * dims[1]);
                        data[k][z][y][x] = r[j];
                    }
                }
                writeHdf5(dir.resolve(base + ".hdf5"), "betas", data);
            }
        }
    }

    private static void writeHdf5(Path f, String name, Object data) throws IOException {
        Path tmp = f.resolveSibling("." + f.getFileName() + ".part");
        try (WritableHdfFile h = HdfFile.write(tmp)) {
            h.putDataset(name, data);
        }
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A 3-D volume with the voxels' values and {@code outside} elsewhere (−1 = non-cortical, as NSD's ROI files). */
    private static void writeVolume(Path f, int[] dims, int[] fortran, float[] values, int datatype, float outside) throws IOException {
        float[] vol = new float[dims[0] * dims[1] * dims[2]];
        java.util.Arrays.fill(vol, outside);
        for (int j = 0; j < fortran.length; j++) vol[fortran[j]] = values[j];
        Nifti.write(f, dims, datatype, vol, 0f, 0f);
    }

    private static void writeCtab(Path f, String[] names) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.length; i++) sb.append(i).append(' ').append(names[i]).append('\n');
        Files.writeString(f, sb, StandardCharsets.UTF_8);
    }

    private static void writeStimuli(Path f, Synth.Design d) throws IOException {
        int s = d.options().imageSize();
        byte[][][][] brick = new byte[d.options().images()][s][s][3];
        for (int i = 0; i < brick.length; i++) {
            byte[] rgb = d.scenes().get(i).render(s);
            for (int y = 0; y < s; y++) for (int x = 0; x < s; x++) for (int c = 0; c < 3; c++) brick[i][y][x][c] = rgb[(y * s + x) * 3 + c];
        }
        writeHdf5(f, "imgBrick", brick);
    }

    /** Synthetic COCO ids: cocoId = 900000 + 7·nsdId; every fifth image in val2017. */
    private static void writeCaptions(Path csv, Path annotations, Synth.Design d) throws IOException {
        StringBuilder sb = new StringBuilder(",cocoId,cocoSplit,cropBox,loss,nsdId,flagged,BOLD5000,shared1000,subject1\n");
        Map<String, List<Map<String, Object>>> ann = new LinkedHashMap<>();
        ann.put("train2017", new ArrayList<>());
        ann.put("val2017", new ArrayList<>());
        long annId = 1;
        for (int i = 0; i < d.options().images(); i++) {
            long coco = 900000L + 7L * i;
            String split = i % 5 == 0 ? "val2017" : "train2017";
            sb.append(i).append(',').append(coco).append(',').append(split).append(",\"(0, 0, 0, 0)\",0.0,").append(i)
                    .append(",False,False,").append(d.isTest()[i] ? "True" : "False").append(",1\n");
            for (String c : d.scenes().get(i).captions()) {
                ann.get(split).add(Map.of("image_id", coco, "id", annId++, "caption", c));
            }
        }
        Files.writeString(csv, sb, StandardCharsets.UTF_8);
        for (Map.Entry<String, List<Map<String, Object>>> e : ann.entrySet()) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("info", Map.of("description", "SYNTHETIC captions of procedural scenes (brain2img data synth), not COCO"));
            root.put("licenses", List.of());
            root.put("images", List.of());
            root.put("annotations", e.getValue());
            Json.write(annotations.resolve("captions_" + e.getKey() + ".json"), root);
        }
    }
}
