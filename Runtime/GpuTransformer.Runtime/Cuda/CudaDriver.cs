using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// The CUDA driver API (<c>libcuda.so.1</c>), bound by hand with <see cref="NativeLibrary"/> so that nothing is loaded
/// until a CUDA device is first asked for, and a machine without the NVIDIA driver gets a reason instead of a
/// <see cref="DllNotFoundException"/>. Each field is named after the export it holds and typed exactly as cuda.h
/// declares it on 64-bit targets: <c>CUresult</c> and enums are <see langword="int"/>, <c>CUdevice</c> is
/// <see langword="int"/>, <c>CUdeviceptr</c> is <see langword="ulong"/>, handles are <see langword="nint"/>,
/// <c>size_t</c> is <see langword="nuint"/>, <c>unsigned int</c> is <see langword="uint"/>. The test
/// <c>CudaBindingSignatureTests</c> checks them against the C prototypes.
/// </summary>
internal sealed unsafe class CudaDriver
{
    /// <summary>The library the NVIDIA driver installs.</summary>
    public static readonly string LibraryName = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    /// <summary>CUDA_SUCCESS.</summary>
    public const int Success = 0;

    /// <summary>CUDA_ERROR_OUT_OF_MEMORY.</summary>
    public const int ErrorOutOfMemory = 2;

    private static readonly Lock LoadGate = new();
    private static bool loadAttempted;
    private static CudaDriver? loaded;
    private static string? loadProblem;

    public readonly delegate* unmanaged<uint, int> cuInit;
    public readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    public readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public readonly delegate* unmanaged<int*, CudaDeviceAttribute, int, int> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<nuint*, int, int> cuDeviceTotalMem_v2;
    public readonly delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease_v2;
    public readonly delegate* unmanaged<nint, int> cuCtxSetCurrent;
    public readonly delegate* unmanaged<nint, int> cuCtxPushCurrent_v2;
    public readonly delegate* unmanaged<nint*, int> cuCtxPopCurrent_v2;
    public readonly delegate* unmanaged<nint*, uint, int> cuStreamCreate;
    public readonly delegate* unmanaged<nint, int> cuStreamDestroy_v2;
    public readonly delegate* unmanaged<nint, int> cuStreamSynchronize;
    public readonly delegate* unmanaged<ulong*, nuint, int> cuMemAlloc_v2;
    public readonly delegate* unmanaged<ulong, int> cuMemFree_v2;
    public readonly delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo_v2;
    public readonly delegate* unmanaged<void**, nuint, int> cuMemAllocHost_v2;
    public readonly delegate* unmanaged<void*, int> cuMemFreeHost;
    public readonly delegate* unmanaged<ulong, void*, nuint, nint, int> cuMemcpyHtoDAsync_v2;
    public readonly delegate* unmanaged<void*, ulong, nuint, nint, int> cuMemcpyDtoHAsync_v2;
    public readonly delegate* unmanaged<ulong, ulong, nuint, nint, int> cuMemcpyDtoDAsync_v2;
    public readonly delegate* unmanaged<nint*, void*, int> cuModuleLoadData;
    public readonly delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    public readonly delegate* unmanaged<nint, int> cuModuleUnload;
    public readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;
    public readonly delegate* unmanaged<nint*, uint, int> cuEventCreate;
    public readonly delegate* unmanaged<nint, nint, int> cuEventRecord;
    public readonly delegate* unmanaged<nint, int> cuEventSynchronize;
    public readonly delegate* unmanaged<float*, nint, nint, int> cuEventElapsedTime;
    public readonly delegate* unmanaged<nint, int> cuEventDestroy_v2;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    public readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;

    private readonly List<string> missing = [];

    private CudaDriver(nint library)
    {
        // Every export is looked up, not just until the first miss, so that an old driver is reported with all it lacks.
        cuInit = (delegate* unmanaged<uint, int>)Export(library, "cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)Export(library, "cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)Export(library, "cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)Export(library, "cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)Export(library, "cuDeviceGetName");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, CudaDeviceAttribute, int, int>)Export(library, "cuDeviceGetAttribute");
        cuDeviceTotalMem_v2 = (delegate* unmanaged<nuint*, int, int>)Export(library, "cuDeviceTotalMem_v2");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)Export(library, "cuDevicePrimaryCtxRetain");

        // The _v2 release (CUDA 11) only changed the header's macro; drivers before it export the plain name.
        cuDevicePrimaryCtxRelease_v2 = NativeLibrary.TryGetExport(library, "cuDevicePrimaryCtxRelease_v2", out nint release)
            ? (delegate* unmanaged<int, int>)release
            : (delegate* unmanaged<int, int>)Export(library, "cuDevicePrimaryCtxRelease");
        cuCtxSetCurrent = (delegate* unmanaged<nint, int>)Export(library, "cuCtxSetCurrent");
        cuCtxPushCurrent_v2 = (delegate* unmanaged<nint, int>)Export(library, "cuCtxPushCurrent_v2");
        cuCtxPopCurrent_v2 = (delegate* unmanaged<nint*, int>)Export(library, "cuCtxPopCurrent_v2");
        cuStreamCreate = (delegate* unmanaged<nint*, uint, int>)Export(library, "cuStreamCreate");
        cuStreamDestroy_v2 = (delegate* unmanaged<nint, int>)Export(library, "cuStreamDestroy_v2");
        cuStreamSynchronize = (delegate* unmanaged<nint, int>)Export(library, "cuStreamSynchronize");
        cuMemAlloc_v2 = (delegate* unmanaged<ulong*, nuint, int>)Export(library, "cuMemAlloc_v2");
        cuMemFree_v2 = (delegate* unmanaged<ulong, int>)Export(library, "cuMemFree_v2");
        cuMemGetInfo_v2 = (delegate* unmanaged<nuint*, nuint*, int>)Export(library, "cuMemGetInfo_v2");
        cuMemAllocHost_v2 = (delegate* unmanaged<void**, nuint, int>)Export(library, "cuMemAllocHost_v2");
        cuMemFreeHost = (delegate* unmanaged<void*, int>)Export(library, "cuMemFreeHost");
        cuMemcpyHtoDAsync_v2 = (delegate* unmanaged<ulong, void*, nuint, nint, int>)Export(library, "cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync_v2 = (delegate* unmanaged<void*, ulong, nuint, nint, int>)Export(library, "cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync_v2 = (delegate* unmanaged<ulong, ulong, nuint, nint, int>)Export(library, "cuMemcpyDtoDAsync_v2");
        cuModuleLoadData = (delegate* unmanaged<nint*, void*, int>)Export(library, "cuModuleLoadData");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)Export(library, "cuModuleGetFunction");
        cuModuleUnload = (delegate* unmanaged<nint, int>)Export(library, "cuModuleUnload");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)Export(library, "cuLaunchKernel");
        cuEventCreate = (delegate* unmanaged<nint*, uint, int>)Export(library, "cuEventCreate");
        cuEventRecord = (delegate* unmanaged<nint, nint, int>)Export(library, "cuEventRecord");
        cuEventSynchronize = (delegate* unmanaged<nint, int>)Export(library, "cuEventSynchronize");
        cuEventElapsedTime = (delegate* unmanaged<float*, nint, nint, int>)Export(library, "cuEventElapsedTime");
        cuEventDestroy_v2 = (delegate* unmanaged<nint, int>)Export(library, "cuEventDestroy_v2");
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)Export(library, "cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)Export(library, "cuGetErrorString");
    }

    /// <summary>The driver's version as cuDriverGetVersion reports it (12040 for 12.4).</summary>
    public int Version { get; private set; }

    /// <summary>
    /// Loads and initialises the driver once per process. Never throws: a machine without the driver, a driver that
    /// lacks an export, or a failing cuInit gives null and a <paramref name="problem"/> for <c>devices</c> to print.
    /// </summary>
    /// <param name="problem">Why there is no driver, or null.</param>
    /// <returns>The initialised driver, or null.</returns>
    public static CudaDriver? TryLoad(out string? problem)
    {
        lock (LoadGate)
        {
            if (!loadAttempted)
            {
                loadAttempted = true;
                loaded = Load(out loadProblem);
            }

            problem = loadProblem;
            return loaded;
        }
    }

    /// <summary>Text for <c>CUresult</c> <paramref name="code"/>: <c>NAME (description)</c>.</summary>
    /// <param name="code">The code.</param>
    /// <returns>The name, and the driver's description when it has one.</returns>
    public string Describe(int code)
    {
        string name = ErrorName(code);
        byte* text = null;
        if (cuGetErrorString(code, &text) == Success && text != null)
        {
            return $"{name} ({Marshal.PtrToStringUTF8((nint)text)})";
        }

        return name;
    }

    /// <summary>The cuda.h name of <paramref name="code"/>: the driver's, else the built-in table's.</summary>
    /// <param name="code">The code.</param>
    /// <returns>The name.</returns>
    public string ErrorName(int code)
    {
        byte* name = null;
        if (cuGetErrorName(code, &name) == Success && name != null)
        {
            return Marshal.PtrToStringUTF8((nint)name) ?? CudaErrorNames.Of(code);
        }

        return CudaErrorNames.Of(code);
    }

    /// <summary>Throws a <see cref="CudaException"/> when <paramref name="result"/> is not CUDA_SUCCESS.</summary>
    /// <param name="result">What <paramref name="call"/> returned.</param>
    /// <param name="call">The export's name.</param>
    /// <param name="doing">What was being done, for the message (e.g. <c>launching add_one</c>).</param>
    /// <exception cref="CudaException">It is not.</exception>
    public void Check(int result, string call, string doing)
    {
        if (result != Success)
        {
            throw Failure(result, call, doing);
        }
    }

    /// <summary>The exception for a failed call.</summary>
    /// <param name="result">What <paramref name="call"/> returned.</param>
    /// <param name="call">The export's name.</param>
    /// <param name="doing">What was being done.</param>
    /// <returns>The exception to throw.</returns>
    public CudaException Failure(int result, string call, string doing) =>
        new(call, result, ErrorName(result), $"{doing}: {call} failed with {Describe(result)}");

    private static CudaDriver? Load(out string? problem)
    {
        if (!NativeLibrary.TryLoad(LibraryName, typeof(CudaDriver).Assembly, null, out nint library))
        {
            problem = $"{LibraryName} not found (no NVIDIA driver)";
            return null;
        }

        var driver = new CudaDriver(library);
        if (driver.missing.Count > 0)
        {
            problem = $"{LibraryName} lacks {string.Join(", ", driver.missing)} (the NVIDIA driver is too old)";
            return null;
        }

        int result = driver.cuInit(0);
        if (result != Success)
        {
            // The stub libcuda of a toolkit without a driver, a container without the device nodes, and a GPU in a
            // bad state all end here; the name says which.
            problem = $"cuInit failed with {driver.Describe(result)}";
            return null;
        }

        int version;
        result = driver.cuDriverGetVersion(&version);
        driver.Version = result == Success ? version : 0;
        problem = null;
        return driver;
    }

    private nint Export(nint library, string name)
    {
        if (NativeLibrary.TryGetExport(library, name, out nint address))
        {
            return address;
        }

        missing.Add(name);
        return 0;
    }
}
