package brain2img.cuda;

import brain2img.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Ridge regression on the GPU for many penalties at once, through one symmetric eigendecomposition:
 * W(α) = (XᵀX + αI)⁻¹ XᵀY for every α, with X (n, p) and Y (n, t) row-major f32.
 *
 * <p>Primal form (p ≤ n): XᵀX = V Λ Vᵀ, W(α) = V diag(1/(λ+α)) Vᵀ XᵀY — one p×p eigendecomposition
 * (cusolverDnSsyevd), then two GEMMs and a row scaling per α. Dual form (n < p): XXᵀ = U Λ Uᵀ,
 * W(α) = Xᵀ U diag(1/(λ+α)) Uᵀ Y, whose eigendecomposition is only n×n. cuSOLVER is column-major; its
 * eigenvector matrix (column j = eigenvector j) read row-major has the eigenvectors as rows: call it E.
 */
public final class CudaRidge {
    private final CudaBackend be;

    public CudaRidge(CudaBackend backend) {
        String e = CuSolver.loadError();
        if (e != null) throw new IllegalStateException("ridge on the GPU needs cuSOLVER: " + e);
        this.be = backend;
    }

    /** W(α) (p, t) for each α, as device tensors of the backend. */
    public List<Tensor> fit(Tensor x, Tensor y, double[] alphas) {
        if (x.rank() != 2 || y.rank() != 2 || x.dim(0) != y.dim(0)) {
            throw new IllegalArgumentException("ridge: X " + x.shapeString() + " and Y " + y.shapeString() + " must be (n,p) and (n,t)");
        }
        for (double a : alphas) if (!(a > 0)) throw new IllegalArgumentException("ridge: alpha must be positive, got " + a);
        int n = x.dimInt(0), p = x.dimInt(1), t = y.dimInt(1);
        Tensor dx = be.upload(x), dy = be.upload(y);
        boolean primal = p <= n;
        int m = primal ? p : n;
        // Gram matrix: XᵀX (p×p) or XXᵀ (n×n)
        Tensor gram = be.allocate(m, m);
        if (primal) be.gemm(true, false, p, p, n, 1f, dx, 0, p, 0, dx, 0, p, 0, 0f, gram, 0, p, 0, 1);
        else be.gemm(false, true, n, n, p, 1f, dx, 0, p, 0, dx, 0, p, 0, 0f, gram, 0, n, 0, 1);
        float[] lambda = eigh(gram, m); // gram now holds the eigenvectors, one per row
        // R = Eᵀ-side right-hand side: E·(XᵀY) in the primal form, E·Y in the dual form; (m, t)
        Tensor rhs;
        if (primal) {
            Tensor xty = be.allocate(p, t);
            be.gemm(true, false, p, t, n, 1f, dx, 0, p, 0, dy, 0, t, 0, 0f, xty, 0, t, 0, 1);
            rhs = project(gram, xty, m, t);
        } else {
            rhs = project(gram, dy, m, t);
        }
        List<Tensor> out = new ArrayList<>();
        for (double a : alphas) {
            float[] s = new float[m];
            for (int i = 0; i < m; i++) s[i] = (float) (1.0 / (lambda[i] + a));
            Tensor scaled = be.mul(rhs, Tensor.of(s, m, 1));
            Tensor back = be.allocate(m, t); // Eᵀ·diag(s)·R
            be.gemm(true, false, m, t, m, 1f, gram, 0, m, 0, scaled, 0, t, 0, 0f, back, 0, t, 0, 1);
            if (primal) {
                out.add(back);
            } else {
                Tensor w = be.allocate(p, t); // Xᵀ·Z
                be.gemm(true, false, p, t, n, 1f, dx, 0, p, 0, back, 0, t, 0, 0f, w, 0, t, 0, 1);
                out.add(w);
            }
        }
        return out;
    }

    /** E·R for the eigenvector rows E (m×m) and R (m×t). */
    private Tensor project(Tensor e, Tensor r, int m, int t) {
        Tensor out = be.allocate(m, t);
        be.gemm(false, false, m, t, m, 1f, e, 0, m, 0, r, 0, t, 0, 0f, out, 0, t, 0, 1);
        return out;
    }

    /** In-place eigendecomposition of the symmetric device matrix a (m×m): returns λ ascending, a := eigenvector rows. */
    private float[] eigh(Tensor a, int m) {
        try (Tensor w = be.allocate(m)) {
            be.syevd(a, w, m);
            return be.download(w).toFloatArray();
        }
    }
}
