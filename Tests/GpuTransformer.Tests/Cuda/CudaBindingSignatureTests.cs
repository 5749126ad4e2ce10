using System.Reflection;
using System.Text.RegularExpressions;
using GpuTransformer.Runtime.Cuda;
using Xunit;

namespace GpuTransformer.Tests.Cuda;

/// <summary>
/// The function-pointer fields of the CUDA driver and NVRTC bindings against the C prototypes of cuda.h and nvrtc.h
/// (as NVIDIA documents them, copied below), with the C types mapped as they are on 64-bit Linux and Windows. A wrong
/// width here (a 32-bit <c>CUdeviceptr</c>, an <c>int</c> for <c>size_t</c>, a missing parameter) would corrupt the
/// stack or truncate pointers on a GPU, where no test of this project may ever run; this catches it on any machine.
/// </summary>
public sealed partial class CudaBindingSignatureTests
{
    /// <summary>cuda.h, 64-bit: the exports <see cref="CudaDriver"/> binds, under their exported (_v2) names.</summary>
    private static readonly string[] DriverPrototypes =
    [
        "CUresult cuInit(unsigned int Flags)",
        "CUresult cuDriverGetVersion(int* driverVersion)",
        "CUresult cuDeviceGetCount(int* count)",
        "CUresult cuDeviceGet(CUdevice* device, int ordinal)",
        "CUresult cuDeviceGetName(char* name, int len, CUdevice dev)",
        "CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev)",
        "CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev)",
        "CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev)",
        "CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)",
        "CUresult cuCtxSetCurrent(CUcontext ctx)",
        "CUresult cuCtxPushCurrent_v2(CUcontext ctx)",
        "CUresult cuCtxPopCurrent_v2(CUcontext* pctx)",
        "CUresult cuStreamCreate(CUstream* phStream, unsigned int Flags)",
        "CUresult cuStreamDestroy_v2(CUstream hStream)",
        "CUresult cuStreamSynchronize(CUstream hStream)",
        "CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize)",
        "CUresult cuMemFree_v2(CUdeviceptr dptr)",
        "CUresult cuMemGetInfo_v2(size_t* free, size_t* total)",
        "CUresult cuMemAllocHost_v2(void** pp, size_t bytesize)",
        "CUresult cuMemFreeHost(void* p)",
        "CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void* srcHost, size_t ByteCount, CUstream hStream)",
        "CUresult cuMemcpyDtoHAsync_v2(void* dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)",
        "CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)",
        "CUresult cuModuleLoadData(CUmodule* module, const void* image)",
        "CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name)",
        "CUresult cuModuleUnload(CUmodule hmod)",
        "CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void** kernelParams, void** extra)",
        "CUresult cuEventCreate(CUevent* phEvent, unsigned int Flags)",
        "CUresult cuEventRecord(CUevent hEvent, CUstream hStream)",
        "CUresult cuEventSynchronize(CUevent hEvent)",
        "CUresult cuEventElapsedTime(float* pMilliseconds, CUevent hStart, CUevent hEnd)",
        "CUresult cuEventDestroy_v2(CUevent hEvent)",
        "CUresult cuGetErrorName(CUresult error, const char** pStr)",
        "CUresult cuGetErrorString(CUresult error, const char** pStr)",
    ];

    /// <summary>nvrtc.h: the exports <see cref="Nvrtc"/> binds.</summary>
    private static readonly string[] NvrtcPrototypes =
    [
        "const char* nvrtcGetErrorString(nvrtcResult result)",
        "nvrtcResult nvrtcVersion(int* major, int* minor)",
        "nvrtcResult nvrtcCreateProgram(nvrtcProgram* prog, const char* src, const char* name, int numHeaders, const char* const* headers, const char* const* includeNames)",
        "nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char* const* options)",
        "nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, size_t* ptxSizeRet)",
        "nvrtcResult nvrtcGetPTX(nvrtcProgram prog, char* ptx)",
        "nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t* logSizeRet)",
        "nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char* log)",
        "nvrtcResult nvrtcDestroyProgram(nvrtcProgram* prog)",
        "nvrtcResult nvrtcGetNumSupportedArchs(int* numArchs)",
        "nvrtcResult nvrtcGetSupportedArchs(int* supportedArchs)",
    ];

    /// <summary>
    /// The C types on LP64 (Linux) and LLP64 (Windows) 64-bit targets. <c>CUdeviceptr</c> is <c>unsigned long long</c>
    /// (64-bit) since CUDA 3.2 on 64-bit hosts; every handle is a pointer to an opaque struct; enums are <c>int</c>.
    /// </summary>
    private static readonly Dictionary<string, Type> CTypes = new(StringComparer.Ordinal)
    {
        ["void"] = typeof(void),
        ["char"] = typeof(byte),
        ["int"] = typeof(int),
        ["unsignedint"] = typeof(uint),
        ["float"] = typeof(float),
        ["size_t"] = typeof(nuint),
        ["CUresult"] = typeof(int),
        ["CUdevice"] = typeof(int),
        ["CUdevice_attribute"] = typeof(int),
        ["CUdeviceptr"] = typeof(ulong),
        ["CUcontext"] = typeof(nint),
        ["CUstream"] = typeof(nint),
        ["CUmodule"] = typeof(nint),
        ["CUfunction"] = typeof(nint),
        ["CUevent"] = typeof(nint),
        ["nvrtcResult"] = typeof(int),
        ["nvrtcProgram"] = typeof(nint),
    };

    /// <summary>Each prototype, one row per export.</summary>
    public static TheoryData<string, string> Prototypes()
    {
        var data = new TheoryData<string, string>();
        foreach (string p in DriverPrototypes)
        {
            data.Add(nameof(CudaDriver), p);
        }

        foreach (string p in NvrtcPrototypes)
        {
            data.Add(nameof(Nvrtc), p);
        }

        return data;
    }

    /// <summary>The field named after the export has the prototype's return and parameter types, in order.</summary>
    [Theory]
    [MemberData(nameof(Prototypes))]
    public void BindingMatchesThePrototype(string binding, string prototype)
    {
        var match = PrototypePattern().Match(prototype);
        Assert.True(match.Success, prototype);
        string name = match.Groups["name"].Value;
        var field = BindingType(binding).GetField(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.True(field is not null, $"{binding} has no field {name}");
        var pointer = field!.FieldType;
        Assert.True(pointer.IsFunctionPointer, $"{name} is a {pointer}, not a function pointer");
        Assert.True(pointer.IsUnmanagedFunctionPointer, $"{name} must be delegate* unmanaged");

        string[] cParameters = match.Groups["parameters"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var parameters = pointer.GetFunctionPointerParameterTypes();
        Assert.True(cParameters.Length == parameters.Length, $"{name}: {parameters.Length} parameters bound, {cParameters.Length} in C");
        AssertSameType(name, "return", ToClr(match.Groups["return"].Value), pointer.GetFunctionPointerReturnType());
        for (int i = 0; i < parameters.Length; i++)
        {
            AssertSameType(name, cParameters[i], ToClr(TypeOfParameter(cParameters[i])), parameters[i]);
        }
    }

    /// <summary>Every function pointer in the bindings has a prototype here, so a new binding cannot go unchecked.</summary>
    [Theory]
    [InlineData(nameof(CudaDriver))]
    [InlineData(nameof(Nvrtc))]
    public void EveryBindingHasAPrototype(string binding)
    {
        var names = (binding == nameof(CudaDriver) ? DriverPrototypes : NvrtcPrototypes).Select(p => PrototypePattern().Match(p).Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var bound = BindingType(binding).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Where(f => f.FieldType.IsFunctionPointer).Select(f => f.Name).ToArray();
        Assert.NotEmpty(bound);
        Assert.All(bound, n => Assert.Contains(n, names));
        Assert.Equal(names.Count, bound.Length);
    }

    /// <summary>The mapping itself: the widths a 64-bit process needs.</summary>
    [Fact]
    public void TheCTypesHaveTheirNativeWidths()
    {
        Assert.True(Environment.Is64BitProcess, "the bindings assume a 64-bit process");
        Assert.Equal(8, System.Runtime.CompilerServices.Unsafe.SizeOf<ulong>());
        Assert.Equal(IntPtr.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<nuint>());
        Assert.Equal(typeof(int), Enum.GetUnderlyingType(typeof(CudaDeviceAttribute)));
    }

    private static Type BindingType(string binding) => binding == nameof(CudaDriver) ? typeof(CudaDriver) : typeof(Nvrtc);

    private static string TypeOfParameter(string parameter)
    {
        // The parameter's name is its last identifier: "const char* const* headers" -> "const char* const*".
        int cut = parameter.LastIndexOfAny([' ', '*']);
        return parameter[..(cut + 1)];
    }

    private static Type ToClr(string cType)
    {
        string text = Regex.Replace(cType, @"\bconst\b", "").Replace(" ", "", StringComparison.Ordinal);
        int stars = text.Count(c => c == '*');
        string baseName = text.TrimEnd('*');
        Assert.True(CTypes.TryGetValue(baseName, out var type), $"no mapping for C type '{baseName}'");
        for (int i = 0; i < stars; i++)
        {
            type = type!.MakePointerType();
        }

        return type!;
    }

    private static void AssertSameType(string function, string what, Type expected, Type actual)
    {
        // An enum stands for a C enum (or CUresult) exactly when its underlying type is the expected integer.
        var normalized = actual.IsEnum ? Enum.GetUnderlyingType(actual) : actual;
        Assert.True(expected == normalized, $"{function}: '{what}' is {expected} in C but bound as {actual}");
    }

    [GeneratedRegex(@"^(?<return>.+?[\s\*])(?<name>\w+)\((?<parameters>.*)\)$")]
    private static partial Regex PrototypePattern();
}
