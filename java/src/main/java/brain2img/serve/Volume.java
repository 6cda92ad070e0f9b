package brain2img.serve;

/**
 * One acquired volume on its way through the stream.
 *
 * @param index          arrival order, 0-based (the output files are named after it)
 * @param event          the event (stimulus presentation) the volume is attributed to: its index, less the
 *                       haemodynamic delay when one is set
 * @param source         where it came from: a file name, "replay", or "http"
 * @param imageId        the stimulus shown, where the source knows it (replay), else null
 * @param arrivalNanos   System.nanoTime() at arrival (latencies are measured from here)
 * @param arrivalEpochMs wall-clock arrival time
 * @param voxels         the data set's voxel vector, after online preprocessing
 * @param readMs         time spent reading the volume from its file
 * @param preprocessMs   time spent in online preprocessing
 */
record Volume(int index, int event, String source, Integer imageId, long arrivalNanos, long arrivalEpochMs, float[] voxels,
              double readMs, double preprocessMs) {

    Volume withVoxels(float[] v, double preprocessMillis) {
        return new Volume(index, event, source, imageId, arrivalNanos, arrivalEpochMs, v, readMs, preprocessMillis);
    }

    Volume withEvent(int e, Integer image) {
        return new Volume(index, e, source, image, arrivalNanos, arrivalEpochMs, voxels, readMs, preprocessMs);
    }
}
