using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// The <c>cuda</c> backend for <see cref="DeviceCatalog"/>: loads the driver on first use, lists its devices once per
/// process (they do not change while it runs), and opens <see cref="CudaAccelerator"/>s. Never throws while listing:
/// an absent driver, a failing cuInit or a machine without NVIDIA GPUs is a problem line.
/// </summary>
internal sealed unsafe class CudaProvider : IDeviceProvider
{
    private readonly Lock gate = new();
    private CudaDeviceInfo[]? devices;
    private string? problem;

    /// <inheritdoc />
    public string Prefix => "cuda";

    /// <inheritdoc />
    public IReadOnlyList<DeviceDescription> Enumerate(out string? problem)
    {
        var found = Find(out problem);
        return found.Select(d => d.Description).ToArray();
    }

    /// <inheritdoc />
    public Accelerator Open(int index)
    {
        var found = Find(out string? why);
        if ((uint)index >= (uint)found.Length)
        {
            throw new NotSupportedException($"device 'cuda:{index}' is not available: {(found.Length == 0 ? why ?? "no CUDA devices" : $"there are {found.Length} CUDA devices")}");
        }

        var driver = CudaDriver.TryLoad(out _) ?? throw new NotSupportedException(why);
        return new CudaAccelerator(driver, found[index]);
    }

    /// <summary>Formats cuDriverGetVersion's number: 12040 is 12.4.</summary>
    /// <param name="version">The number.</param>
    /// <returns>E.g. <c>12.4</c>.</returns>
    internal static string FormatDriverVersion(int version) => $"{version / 1000}.{version % 1000 / 10}";

    private static CudaDeviceInfo[] Query(CudaDriver driver, out string? problem)
    {
        int count;
        int result = driver.cuDeviceGetCount(&count);
        if (result != CudaDriver.Success)
        {
            problem = $"cuDeviceGetCount failed with {driver.Describe(result)}";
            return [];
        }

        if (count == 0)
        {
            problem = "the CUDA driver reports no devices";
            return [];
        }

        var found = new List<CudaDeviceInfo>(count);
        var failures = new List<string>();
        for (int ordinal = 0; ordinal < count; ordinal++)
        {
            try
            {
                found.Add(Describe(driver, ordinal, found.Count));
            }
            catch (CudaException e)
            {
                failures.Add(e.Message);
            }
        }

        problem = found.Count == 0 ? string.Join("; ", failures) : null;
        return [.. found];
    }

    private static CudaDeviceInfo Describe(CudaDriver driver, int ordinal, int index)
    {
        string doing = $"describing CUDA device {ordinal}";
        int device;
        driver.Check(driver.cuDeviceGet(&device, ordinal), "cuDeviceGet", doing);
        byte* name = stackalloc byte[256];
        driver.Check(driver.cuDeviceGetName(name, 256, device), "cuDeviceGetName", doing);
        nuint memory;
        driver.Check(driver.cuDeviceTotalMem_v2(&memory, device), "cuDeviceTotalMem_v2", doing);
        int major = Attribute(driver, device, CudaDeviceAttribute.ComputeCapabilityMajor);
        int minor = Attribute(driver, device, CudaDeviceAttribute.ComputeCapabilityMinor);
        int multiprocessors = Attribute(driver, device, CudaDeviceAttribute.MultiprocessorCount);
        string driverVersion = FormatDriverVersion(driver.Version);
        var description = new DeviceDescription
        {
            Id = $"cuda:{index}",
            Kind = AcceleratorKind.Cuda,
            Name = (Marshal.PtrToStringUTF8((nint)name) ?? "").Trim(),
            MemoryBytes = (long)memory,
            Version = $"sm_{major}{minor}, CUDA driver {driverVersion}",
            ComputeUnits = multiprocessors,
            IsGpu = true,
            Platform = $"NVIDIA CUDA driver {driverVersion}",
        };
        return new CudaDeviceInfo(
            ordinal,
            device,
            major,
            minor,
            Attribute(driver, device, CudaDeviceAttribute.MaxThreadsPerBlock),
            Attribute(driver, device, CudaDeviceAttribute.MaxSharedMemoryPerBlock),
            Attribute(driver, device, CudaDeviceAttribute.MaxGridDimX),
            Attribute(driver, device, CudaDeviceAttribute.MaxGridDimY),
            Attribute(driver, device, CudaDeviceAttribute.MaxGridDimZ),
            description);
    }

    private static int Attribute(CudaDriver driver, int device, CudaDeviceAttribute attribute)
    {
        int value;
        driver.Check(driver.cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute", $"describing CUDA device {device} ({attribute})");
        return value;
    }

    private CudaDeviceInfo[] Find(out string? why)
    {
        lock (gate)
        {
            if (devices is null)
            {
                var driver = CudaDriver.TryLoad(out problem);
                devices = driver is null ? [] : Query(driver, out problem);
            }

            why = problem;
            return devices;
        }
    }
}
