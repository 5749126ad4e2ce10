using GpuTransformer.Runtime;
using GpuTransformer.Runtime.OpenCL;
using Xunit;

namespace GpuTransformer.Tests.OpenCL;

/// <summary>Status names and messages of <see cref="OpenCLException"/>; no device needed.</summary>
public sealed class OpenCLExceptionTests
{
    /// <summary>Standard statuses have their header names; others still say their number.</summary>
    [Theory]
    [InlineData(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE")]
    [InlineData(-5, "CL_OUT_OF_RESOURCES")]
    [InlineData(-11, "CL_BUILD_PROGRAM_FAILURE")]
    [InlineData(-54, "CL_INVALID_WORK_GROUP_SIZE")]
    [InlineData(-1001, "CL_PLATFORM_NOT_FOUND_KHR")]
    [InlineData(-9999, "CL_UNKNOWN_ERROR(-9999)")]
    public void NamesStatuses(int code, string name) => Assert.Equal(name, OpenCLException.NameOf(code));

    /// <summary>The message names the call, the status and what was being done.</summary>
    [Fact]
    public void MessageNamesCallStatusAndDetail()
    {
        var e = new OpenCLException("clEnqueueNDRangeKernel", -54, "launching k");
        Assert.Equal("clEnqueueNDRangeKernel failed with CL_INVALID_WORK_GROUP_SIZE (-54): launching k", e.Message);
        Assert.Equal(-54, e.ErrorCode);
        Assert.Equal("CL_INVALID_WORK_GROUP_SIZE", e.ErrorName);
        Assert.Equal("clEnqueueNDRangeKernel", e.Function);
        Assert.IsAssignableFrom<DeviceException>(e);
    }
}
