package brain2img.cuda;

/**
 * Every kernel entry point the backend launches, with the {@code kernels/*.cu} file (and so the PTX module) it
 * lives in. The PTX test checks that each PTX file declares exactly these {@code .entry} names.
 */
enum Kernel {
    GROUPNORM("groupnorm", "b2i_groupnorm_f32"),
    LAYERNORM("layernorm", "b2i_layernorm_f32"),
    SOFTMAX("softmax", "b2i_softmax_f32"),
    GEGLU("geglu", "b2i_geglu_f32"),
    UNARY("elementwise", "b2i_unary_f32"),
    BINARY("elementwise", "b2i_binary_f32"),
    AXPBY("elementwise", "b2i_axpby_f32"),
    F16_TO_F32("elementwise", "b2i_f16_to_f32"),
    BF16_TO_F32("elementwise", "b2i_bf16_to_f32"),
    F32_TO_F16("elementwise", "b2i_f32_to_f16"),
    F32_TO_BF16("elementwise", "b2i_f32_to_bf16"),
    EMBEDDING("elementwise", "b2i_embedding_f32"),
    UPSAMPLE2X("upsample", "b2i_upsample_nearest2x_f32"),
    UPSAMPLE("upsample", "b2i_upsample_nearest_f32"),
    CONCAT("concat", "b2i_concat_channels_f32"),
    TRANSPOSE("transpose", "b2i_transpose_last2_f32"),
    IM2COL("im2col", "b2i_im2col_f32"),
    COL2IM("col2im", "b2i_col2im_add_f32"),
    DEPTHWISE("depthwise", "b2i_depthwise_conv2d_f32"),
    MAXPOOL("pool", "b2i_maxpool2d_f32"),
    MAXPOOL_BACKWARD("pool", "b2i_maxpool2d_backward_f32"),
    AVGPOOL("pool", "b2i_avgpool2d_f32"),
    AVGPOOL_BACKWARD("pool", "b2i_avgpool2d_backward_f32"),
    ADAPTIVE_AVGPOOL("pool", "b2i_adaptive_avgpool2d_f32"),
    ADAPTIVE_AVGPOOL_BACKWARD("pool", "b2i_adaptive_avgpool2d_backward_f32"),
    ACTIVATE("activation", "b2i_activate_f32"),
    ACTIVATE_BACKWARD("activation", "b2i_activate_backward_f32"),
    CROP("crop", "b2i_crop_f32"),
    ATTENTION_D8("attention", "b2i_attention_f32_d8"),
    ATTENTION_D32("attention", "b2i_attention_f32_d32"),
    ATTENTION_D40("attention", "b2i_attention_f32_d40"),
    ATTENTION_D64("attention", "b2i_attention_f32_d64"),
    ATTENTION_D80("attention", "b2i_attention_f32_d80"),
    ATTENTION_D128("attention", "b2i_attention_f32_d128"),
    ATTENTION_D160("attention", "b2i_attention_f32_d160"),
    ATTENTION_D256("attention", "b2i_attention_f32_d256"),
    ATTENTION_D512("attention", "b2i_attention_f32_d512");

    /** The attention variants with the head-dimension bound each handles, smallest first. */
    static final Kernel[] ATTENTION = {ATTENTION_D8, ATTENTION_D32, ATTENTION_D40, ATTENTION_D64, ATTENTION_D80,
            ATTENTION_D128, ATTENTION_D160, ATTENTION_D256, ATTENTION_D512};
    /** Threads per query in each attention variant (T in attention.cu; 128/T queries per block). */
    static final int[] ATTENTION_THREADS_PER_QUERY = {8, 8, 8, 8, 8, 16, 8, 16, 32};

    final String file;
    final String entry;

    Kernel(String file, String entry) {
        this.file = file;
        this.entry = entry;
    }

    /** Largest head dimension an attention variant handles (the number after "_d"). */
    int attentionBound() {
        return Integer.parseInt(entry.substring(entry.lastIndexOf("_d") + 2));
    }
}
