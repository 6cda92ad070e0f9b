package brain2img.data;

/**
 * One row of a data set's trial table: row {@code index} of the response matrix showed image {@code imageId}
 * in {@code session} (as the source numbers them: 1-based for NSD), for the {@code repetition}-th time
 * (0 = first presentation among the imported trials).
 */
public record Trial(int index, int imageId, int session, int repetition, Split split) {}
