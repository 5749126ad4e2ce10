using System.Runtime.InteropServices;
using System.Text;

namespace GpuTransformer.Runtime.OpenCL;

/// <summary>
/// The OpenCL 1.2 entry points this backend uses, resolved from the ICD loader at first use. Binding through
/// function pointers instead of [DllImport] lets a machine without OpenCL report "libOpenCL.so.1 not found" as a
/// problem line rather than fail with a DllNotFoundException inside some unrelated call.
/// </summary>
/// <remarks>
/// Only 1.2 functions are bound (clCreateCommandQueue, not clCreateCommandQueueWithProperties) because NVIDIA's
/// driver offers OpenCL 1.2 and nothing newer is needed. Handles are <see cref="nint"/>, <c>cl_int</c> is
/// <see cref="int"/>, <c>cl_uint</c>/<c>cl_bool</c> and the info enums are <see cref="uint"/>, bitfields are
/// <see cref="ulong"/>, <c>size_t</c> is <see cref="nuint"/>.
/// </remarks>
internal sealed unsafe class OpenCLApi
{
    public const int Success = 0;
    public const int PlatformNotFoundKhr = -1001;

    public const uint PlatformVersion = 0x0901;
    public const uint PlatformName = 0x0902;
    public const uint PlatformVendor = 0x0903;

    public const ulong DeviceTypeCpu = 1 << 1;
    public const ulong DeviceTypeGpu = 1 << 2;
    public const ulong DeviceTypeAccelerator = 1 << 3;
    public const ulong DeviceTypeAll = 0xFFFFFFFF;

    public const uint DeviceType = 0x1000;
    public const uint DeviceMaxComputeUnits = 0x1002;
    public const uint DeviceMaxWorkGroupSize = 0x1004;
    public const uint DeviceMaxMemAllocSize = 0x1010;
    public const uint DeviceSingleFpConfig = 0x101B;
    public const uint DeviceGlobalMemSize = 0x101F;
    public const uint DeviceLocalMemSize = 0x1023;
    public const uint DeviceAvailable = 0x1027;
    public const uint DeviceName = 0x102B;
    public const uint DeviceVendor = 0x102C;
    public const uint DriverVersion = 0x102D;
    public const uint DeviceVersion = 0x102F;
    public const uint DeviceOpenCLCVersion = 0x103D;

    public const ulong FpCorrectlyRoundedDivideSqrt = 1 << 7;

    public const nint ContextPlatform = 0x1084;
    public const ulong QueueProfilingEnable = 1 << 1;
    public const ulong MemReadWrite = 1 << 0;
    public const uint ProgramBuildLog = 0x1183;
    public const uint KernelNumArgs = 0x1191;
    public const uint ProfilingCommandStart = 0x1282;
    public const uint ProfilingCommandEnd = 0x1283;

    private static readonly Lazy<(OpenCLApi? Api, string? Problem)> Loaded = new(Load);

    public readonly delegate* unmanaged<uint, nint*, uint*, int> GetPlatformIDs;
    public readonly delegate* unmanaged<nint, uint, nuint, void*, nuint*, int> GetPlatformInfo;
    public readonly delegate* unmanaged<nint, ulong, uint, nint*, uint*, int> GetDeviceIDs;
    public readonly delegate* unmanaged<nint, uint, nuint, void*, nuint*, int> GetDeviceInfo;
    public readonly delegate* unmanaged<nint*, uint, nint*, nint, nint, int*, nint> CreateContext;
    public readonly delegate* unmanaged<nint, nint, ulong, int*, nint> CreateCommandQueue;
    public readonly delegate* unmanaged<nint, ulong, nuint, void*, int*, nint> CreateBuffer;
    public readonly delegate* unmanaged<nint, nint, uint, nuint, nuint, void*, uint, nint*, nint*, int> EnqueueWriteBuffer;
    public readonly delegate* unmanaged<nint, nint, uint, nuint, nuint, void*, uint, nint*, nint*, int> EnqueueReadBuffer;
    public readonly delegate* unmanaged<nint, nint, nint, nuint, nuint, nuint, uint, nint*, nint*, int> EnqueueCopyBuffer;
    public readonly delegate* unmanaged<nint, uint, byte**, nuint*, int*, nint> CreateProgramWithSource;
    public readonly delegate* unmanaged<nint, uint, nint*, byte*, nint, nint, int> BuildProgram;
    public readonly delegate* unmanaged<nint, nint, uint, nuint, void*, nuint*, int> GetProgramBuildInfo;
    public readonly delegate* unmanaged<nint, byte*, int*, nint> CreateKernel;
    public readonly delegate* unmanaged<nint, uint, nuint, void*, nuint*, int> GetKernelInfo;
    public readonly delegate* unmanaged<nint, uint, nuint, void*, int> SetKernelArg;
    public readonly delegate* unmanaged<nint, nint, uint, nuint*, nuint*, nuint*, uint, nint*, nint*, int> EnqueueNDRangeKernel;
    public readonly delegate* unmanaged<nint, int> Flush;
    public readonly delegate* unmanaged<nint, int> Finish;
    public readonly delegate* unmanaged<uint, nint*, int> WaitForEvents;
    public readonly delegate* unmanaged<nint, uint, nuint, void*, nuint*, int> GetEventProfilingInfo;
    public readonly delegate* unmanaged<nint, int> ReleaseEvent;
    public readonly delegate* unmanaged<nint, int> ReleaseKernel;
    public readonly delegate* unmanaged<nint, int> ReleaseProgram;
    public readonly delegate* unmanaged<nint, int> ReleaseMemObject;
    public readonly delegate* unmanaged<nint, int> ReleaseCommandQueue;
    public readonly delegate* unmanaged<nint, int> ReleaseContext;

    private OpenCLApi(nint library)
    {
        GetPlatformIDs = (delegate* unmanaged<uint, nint*, uint*, int>)Export(library, "clGetPlatformIDs");
        GetPlatformInfo = (delegate* unmanaged<nint, uint, nuint, void*, nuint*, int>)Export(library, "clGetPlatformInfo");
        GetDeviceIDs = (delegate* unmanaged<nint, ulong, uint, nint*, uint*, int>)Export(library, "clGetDeviceIDs");
        GetDeviceInfo = (delegate* unmanaged<nint, uint, nuint, void*, nuint*, int>)Export(library, "clGetDeviceInfo");
        CreateContext = (delegate* unmanaged<nint*, uint, nint*, nint, nint, int*, nint>)Export(library, "clCreateContext");
        CreateCommandQueue = (delegate* unmanaged<nint, nint, ulong, int*, nint>)Export(library, "clCreateCommandQueue");
        CreateBuffer = (delegate* unmanaged<nint, ulong, nuint, void*, int*, nint>)Export(library, "clCreateBuffer");
        EnqueueWriteBuffer = (delegate* unmanaged<nint, nint, uint, nuint, nuint, void*, uint, nint*, nint*, int>)Export(library, "clEnqueueWriteBuffer");
        EnqueueReadBuffer = (delegate* unmanaged<nint, nint, uint, nuint, nuint, void*, uint, nint*, nint*, int>)Export(library, "clEnqueueReadBuffer");
        EnqueueCopyBuffer = (delegate* unmanaged<nint, nint, nint, nuint, nuint, nuint, uint, nint*, nint*, int>)Export(library, "clEnqueueCopyBuffer");
        CreateProgramWithSource = (delegate* unmanaged<nint, uint, byte**, nuint*, int*, nint>)Export(library, "clCreateProgramWithSource");
        BuildProgram = (delegate* unmanaged<nint, uint, nint*, byte*, nint, nint, int>)Export(library, "clBuildProgram");
        GetProgramBuildInfo = (delegate* unmanaged<nint, nint, uint, nuint, void*, nuint*, int>)Export(library, "clGetProgramBuildInfo");
        CreateKernel = (delegate* unmanaged<nint, byte*, int*, nint>)Export(library, "clCreateKernel");
        GetKernelInfo = (delegate* unmanaged<nint, uint, nuint, void*, nuint*, int>)Export(library, "clGetKernelInfo");
        SetKernelArg = (delegate* unmanaged<nint, uint, nuint, void*, int>)Export(library, "clSetKernelArg");
        EnqueueNDRangeKernel = (delegate* unmanaged<nint, nint, uint, nuint*, nuint*, nuint*, uint, nint*, nint*, int>)Export(library, "clEnqueueNDRangeKernel");
        Flush = (delegate* unmanaged<nint, int>)Export(library, "clFlush");
        Finish = (delegate* unmanaged<nint, int>)Export(library, "clFinish");
        WaitForEvents = (delegate* unmanaged<uint, nint*, int>)Export(library, "clWaitForEvents");
        GetEventProfilingInfo = (delegate* unmanaged<nint, uint, nuint, void*, nuint*, int>)Export(library, "clGetEventProfilingInfo");
        ReleaseEvent = (delegate* unmanaged<nint, int>)Export(library, "clReleaseEvent");
        ReleaseKernel = (delegate* unmanaged<nint, int>)Export(library, "clReleaseKernel");
        ReleaseProgram = (delegate* unmanaged<nint, int>)Export(library, "clReleaseProgram");
        ReleaseMemObject = (delegate* unmanaged<nint, int>)Export(library, "clReleaseMemObject");
        ReleaseCommandQueue = (delegate* unmanaged<nint, int>)Export(library, "clReleaseCommandQueue");
        ReleaseContext = (delegate* unmanaged<nint, int>)Export(library, "clReleaseContext");
    }

    /// <summary>The library's file names, most specific first, per operating system.</summary>
    public static IReadOnlyList<string> LibraryNames { get; } =
        OperatingSystem.IsWindows() ? ["OpenCL.dll"]
        : OperatingSystem.IsMacOS() ? ["/System/Library/Frameworks/OpenCL.framework/OpenCL"]
        : ["libOpenCL.so.1", "libOpenCL.so"];

    /// <summary>Loads the library once per process; null with the reason when it cannot be loaded.</summary>
    /// <param name="problem">Why not, e.g. <c>libOpenCL.so.1 not found</c>.</param>
    /// <returns>The bound API, or null.</returns>
    public static OpenCLApi? TryGet(out string? problem)
    {
        var (api, why) = Loaded.Value;
        problem = why;
        return api;
    }

    /// <summary>Throws an <see cref="OpenCLException"/> unless <paramref name="status"/> is CL_SUCCESS.</summary>
    /// <param name="status">The status returned.</param>
    /// <param name="function">The call that returned it.</param>
    public static void Check(int status, string function)
    {
        if (status != Success)
        {
            throw new OpenCLException(function, status);
        }
    }

    /// <summary>A string-valued platform property.</summary>
    public string PlatformString(nint platform, uint parameter)
    {
        nuint size;
        Check(GetPlatformInfo(platform, parameter, 0, null, &size), "clGetPlatformInfo");
        byte[] bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            Check(GetPlatformInfo(platform, parameter, size, p, null), "clGetPlatformInfo");
        }

        return Decode(bytes);
    }

    /// <summary>A string-valued device property.</summary>
    public string DeviceString(nint device, uint parameter)
    {
        nuint size;
        Check(GetDeviceInfo(device, parameter, 0, null, &size), "clGetDeviceInfo");
        byte[] bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            Check(GetDeviceInfo(device, parameter, size, p, null), "clGetDeviceInfo");
        }

        return Decode(bytes);
    }

    /// <summary>A fixed-size device property (cl_uint, cl_ulong, size_t, cl_bool, bitfields).</summary>
    public T DeviceValue<T>(nint device, uint parameter)
        where T : unmanaged
    {
        T value = default;
        Check(GetDeviceInfo(device, parameter, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }

    /// <summary>The build log of <paramref name="program"/> for <paramref name="device"/>; empty when there is none.</summary>
    public string BuildLog(nint program, nint device)
    {
        nuint size;
        if (GetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != Success || size == 0)
        {
            return "";
        }

        byte[] bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            if (GetProgramBuildInfo(program, device, ProgramBuildLog, size, p, null) != Success)
            {
                return "";
            }
        }

        return Decode(bytes);
    }

    private static string Decode(byte[] bytes)
    {
        int end = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, end < 0 ? bytes.Length : end).Trim();
    }

    private static (OpenCLApi? Api, string? Problem) Load()
    {
        nint library = 0;
        foreach (string name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, typeof(OpenCLApi).Assembly, null, out library))
            {
                break;
            }
        }

        if (library == 0)
        {
            return (null, $"{LibraryNames[0]} not found (install an OpenCL ICD loader and a driver, e.g. ocl-icd-libopencl1 with pocl-opencl-icd)");
        }

        try
        {
            return (new OpenCLApi(library), null);
        }
        catch (EntryPointNotFoundException e)
        {
            return (null, $"{LibraryNames[0]} lacks an OpenCL 1.2 function: {e.Message}");
        }
    }

    private static nint Export(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address) ? address : throw new EntryPointNotFoundException(name);
}
