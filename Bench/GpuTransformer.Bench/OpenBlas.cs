using System.Runtime.InteropServices;

namespace GpuTransformer.Bench;

/// <summary>OpenBLAS's <c>cblas_sgemm</c>, the in-run baseline of the GEMM benchmarks (Debian package libopenblas0).</summary>
public static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    /// <summary>Whether the library loads.</summary>
    public static bool IsAvailable => NativeLibrary.TryLoad(Library, out _);

    /// <summary><c>C = A · Bᵀ</c> with A [m, k], B [n, k], C [m, n], row-major (the <c>nn.Linear</c> product).</summary>
    public static void LinearNoBias(float* a, float* b, float* c, int m, int n, int k) =>
        Sgemm(RowMajor, NoTrans, Trans, m, n, k, 1f, a, k, b, k, 0f, c, n);

    /// <summary>
    /// The kernel set OpenBLAS chose for this processor. Debian's 0.3.21 (DYNAMIC_ARCH) does not know recent Xeons and
    /// falls back to "Prescott" (SSE3) kernels; <c>OPENBLAS_CORETYPE=SkylakeX</c> in the environment makes it use its
    /// AVX-512 kernels, which is the fair baseline on such a machine.
    /// </summary>
    /// <returns>The core name, e.g. "SkylakeX".</returns>
    public static string CoreName() => Marshal.PtrToStringAnsi(GetCoreName()) ?? "?";

    /// <summary>Sets OpenBLAS's thread count.</summary>
    [LibraryImport(Library, EntryPoint = "openblas_set_num_threads")]
    public static partial void SetThreads(int threads);

    [LibraryImport(Library, EntryPoint = "openblas_get_corename")]
    private static partial nint GetCoreName();

    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    private static partial void Sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
