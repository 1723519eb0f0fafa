// Written by scripts/make-test-certificates.sh: do not edit; run the script again.

extension TestCertificateAuthority {
    /// The authority the tests trust ("licprov test CA"), its server certificate for localhost,
    /// api.cryptlex.test and 127.0.0.1, and the same names without the address.
    public static let licprov = TestCertificateAuthority(
        name: "licprov test CA",
        certificatePEM: """
            -----BEGIN CERTIFICATE-----
            MIIBnDCCAUGgAwIBAgIUMlKY0TExggRlrs73yAT406WUtP4wCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPbGljcHJvdiB0ZXN0IENBMCAXDTI2MTIwNzAwNDIwNFoYDzIx
            MjYxMTEzMDA0MjA0WjAaMRgwFgYDVQQDDA9saWNwcm92IHRlc3QgQ0EwWTATBgcq
            hkjOPQIBBggqhkjOPQMBBwNCAARFcys19teOlcOBfLq0/PKC8ImTGq7PD19Vnfrn
            2PE5LT+rqJyvfkSVEStIgNTDngTWGUq/ry2FV4pA7tbBtqHKo2MwYTAdBgNVHQ4E
            FgQULtchv5d8WHv7JQEHMKyNk3UNyqUwHwYDVR0jBBgwFoAULtchv5d8WHv7JQEH
            MKyNk3UNyqUwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI
            zj0EAwIDSQAwRgIhAJWvXGhXcXABvIIH2K+iuG5U8c8AnayElYOwdhSXi+YIAiEA
            1AO6HwvZOyYwtXsrUkL1YnOV5S0wkqhSG1ZByZwsT2k=
            -----END CERTIFICATE-----
            """,
        serverPEM: """
            -----BEGIN CERTIFICATE-----
            MIIB2DCCAX6gAwIBAgIUHDoPtGIH4BkDeLwkaJxkoJ/XuU8wCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPbGljcHJvdiB0ZXN0IENBMCAXDTI2MTIwNzAwNDIwNFoYDzIx
            MjYxMTEzMDA0MjA0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIB
            BggqhkjOPQMBBwNCAAQi0O8vqdByCFXERfiY0GMlLxa06lqwthc3UvsjWb/wJ1Wb
            CUihC06bj6HtjXTjMmRUomxmSTsotr2GEDEstmUno4GlMIGiMAwGA1UdEwEB/wQC
            MAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMC0GA1UdEQQm
            MCSCCWxvY2FsaG9zdIIRYXBpLmNyeXB0bGV4LnRlc3SHBH8AAAEwHQYDVR0OBBYE
            FA3KjPbq4qBlsW83uERN3nqjsOSGMB8GA1UdIwQYMBaAFC7XIb+XfFh7+yUBBzCs
            jZN1DcqlMAoGCCqGSM49BAMCA0gAMEUCIE4nYPCgcrp7O/ymn9etntSm5JVF6iQH
            suNQmQLb17bFAiEAsGzgXiQqLRDBtn1DWqQucM9srBU+zXwp4E8QvhwgA+0=
            -----END CERTIFICATE-----
            """,
        serverKeyPEM: """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxBoVxe0+p9ZO0HIf
            +96MPO/NCF1MRTp/LKBLONtrzb2hRANCAAQi0O8vqdByCFXERfiY0GMlLxa06lqw
            thc3UvsjWb/wJ1WbCUihC06bj6HtjXTjMmRUomxmSTsotr2GEDEstmUn
            -----END PRIVATE KEY-----
            """,
        namesOnlyServerPEM: """
            -----BEGIN CERTIFICATE-----
            MIIB0TCCAXigAwIBAgIUHDoPtGIH4BkDeLwkaJxkoJ/XuVAwCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPbGljcHJvdiB0ZXN0IENBMCAXDTI2MTIwNzAwNDIwNFoYDzIx
            MjYxMTEzMDA0MjA0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIB
            BggqhkjOPQMBBwNCAASeZ4WAlVBx6utdQxbxR4zwCfMXhe5ivN81i1Zw+XntxV2Z
            /ek610mJp4nLbyVvXvnF+Clh5BwSpngIAis7lTxEo4GfMIGcMAwGA1UdEwEB/wQC
            MAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMCcGA1UdEQQg
            MB6CCWxvY2FsaG9zdIIRYXBpLmNyeXB0bGV4LnRlc3QwHQYDVR0OBBYEFP4QdA0v
            2uK6A3l6Bs5TkOtai2PlMB8GA1UdIwQYMBaAFC7XIb+XfFh7+yUBBzCsjZN1Dcql
            MAoGCCqGSM49BAMCA0cAMEQCIFKCZXA4R6M1LZzClvvh+6787BPEwBkmQThDCv+S
            1WbOAiAYPcyWLAJ0OYzo21nyQ0Ebztz4NqbVt68TcjV2Ir/VJA==
            -----END CERTIFICATE-----
            """,
        namesOnlyServerKeyPEM: """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOBt28uxCVssA9RbR
            8fZSmSeDFU2cPFMMoItIEVrCq1qhRANCAASeZ4WAlVBx6utdQxbxR4zwCfMXhe5i
            vN81i1Zw+XntxV2Z/ek610mJp4nLbyVvXvnF+Clh5BwSpngIAis7lTxE
            -----END PRIVATE KEY-----
            """)

    /// An authority that signed none of the emulator's certificates ("another test CA").
    public static let other = TestCertificateAuthority(
        name: "another test CA",
        certificatePEM: """
            -----BEGIN CERTIFICATE-----
            MIIBmjCCAUGgAwIBAgIUe1CJtg6vKq4PT7duoR9f54FeFZ0wCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPYW5vdGhlciB0ZXN0IENBMCAXDTI2MTIwNzAwNDIwNFoYDzIx
            MjYxMTEzMDA0MjA0WjAaMRgwFgYDVQQDDA9hbm90aGVyIHRlc3QgQ0EwWTATBgcq
            hkjOPQIBBggqhkjOPQMBBwNCAASlhCVbplzZDagxBvzW4zN42Elnn9D8nNbl0nxH
            cY4lvdaLOOeBE04KkX4Tkl8P6diIr6kp110nX3pJb3tqRH6po2MwYTAdBgNVHQ4E
            FgQU1LFQkBl7wDFnBrTTrBOPa9/X0hYwHwYDVR0jBBgwFoAU1LFQkBl7wDFnBrTT
            rBOPa9/X0hYwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI
            zj0EAwIDRwAwRAIgBaA2JozlzgMiHNUnmhSQX8oqGJJIWgmrapsFHG/9Um0CIHUL
            IlLEyv/27p28y/h/6Fzeer8LvTcl9aFPLF1ZNQWO
            -----END CERTIFICATE-----
            """,
        serverPEM: """
            -----BEGIN CERTIFICATE-----
            MIIBxTCCAWugAwIBAgIUN2HlVgVGwUTNbzFJlF9+XKwmiv4wCgYIKoZIzj0EAwIw
            GjEYMBYGA1UEAwwPYW5vdGhlciB0ZXN0IENBMCAXDTI2MTIwNzAwNDIwNFoYDzIx
            MjYxMTEzMDA0MjA0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIB
            BggqhkjOPQMBBwNCAAQsUBMfR00YYsLXAvR/Glgz9xLRuXHMoAEP4TgUuCs8aID9
            QKEQIGTGW6C4FgOTlTVYd5F7km1u+RKKnItbP+mjo4GSMIGPMAwGA1UdEwEB/wQC
            MAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMBoGA1UdEQQT
            MBGCCWxvY2FsaG9zdIcEfwAAATAdBgNVHQ4EFgQURVy6uKFsRG4PDV8Zl8oj0xLU
            zkUwHwYDVR0jBBgwFoAU1LFQkBl7wDFnBrTTrBOPa9/X0hYwCgYIKoZIzj0EAwID
            SAAwRQIgYo7OO/GXY/NYWfDj47eNt70Jomhd6zZ9uBlylJHSVyMCIQDZel0gUa08
            C058TikKQWXYpM0AkyJ+oIOXjHXXBqS6GQ==
            -----END CERTIFICATE-----
            """,
        serverKeyPEM: """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgShxawVcHd70wKVJB
            8y7MQW8BOHfPD7xxkS5QVpwHRoKhRANCAAQsUBMfR00YYsLXAvR/Glgz9xLRuXHM
            oAEP4TgUuCs8aID9QKEQIGTGW6C4FgOTlTVYd5F7km1u+RKKnItbP+mj
            -----END PRIVATE KEY-----
            """)
}
