using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Kernels.Generator.Tests;

/// <summary>
/// A theory that needs clang-14 (to compile generated CUDA C to PTX and check OpenCL C): skipped with the reason when
/// it is not installed, unless <see cref="RequiredBackends"/> demands <c>clang</c>, in which case it runs and fails.
/// </summary>
public sealed class ClangTheoryAttribute : TheoryAttribute
{
    /// <summary>Marks the test.</summary>
    public ClangTheoryAttribute()
    {
        Skip = RequiredBackends.SkipReason("clang", Clang.AbsentBecause);
    }
}
