namespace GpuTransformer.Kernels.Generator;

/// <summary>
/// The few definitions every generated program starts with: the function qualifier for helpers, and integer
/// min/max/abs and a NaN test under names of our own, because OpenCL C and CUDA spell (or lack) them differently.
/// </summary>
internal static class CPrelude
{
    public const string OpenCL =
        "#define GT_FN static inline\n" +
        Common;

    // NVRTC declares the math functions and __int_as_float itself; a stand-alone compiler needs them declared first.
    public const string Cuda =
        "#define GT_FN static __device__ inline\n" +
        "typedef unsigned int uint;\n" +
        Common;

    private const string Common =
        "GT_FN int gt_abs_i(int x) { return x < 0 ? -x : x; }\n" +
        "GT_FN int gt_max_i(int x, int y) { return x > y ? x : y; }\n" +
        "GT_FN int gt_min_i(int x, int y) { return x < y ? x : y; }\n" +
        "GT_FN uint gt_max_u(uint x, uint y) { return x > y ? x : y; }\n" +
        "GT_FN uint gt_min_u(uint x, uint y) { return x < y ? x : y; }\n" +
        "GT_FN bool gt_isnan(float x) { return x != x; }\n";
}
