package report

import "fmt"

// Languages.
const (
	LangEN = "en"
	LangZH = "zh"
)

// tr translates the report's fixed strings. English strings are the keys;
// a string missing from the Chinese table is shown in English (a test
// checks that none is missing).
type tr struct{ lang string }

func newTr(lang string) (*tr, error) {
	switch lang {
	case "", LangEN:
		return &tr{LangEN}, nil
	case LangZH:
		return &tr{LangZH}, nil
	}
	return nil, fmt.Errorf("language %q: use en or zh", lang)
}

func (t *tr) s(en string) string {
	if t.lang == LangZH {
		if z, ok := zh[en]; ok {
			return z
		}
	}
	return en
}

func (t *tr) cat(c string) string   { return t.s(catNames[c]) }
func (t *tr) class(c string) string { return t.s(classNames[classOr(c)]) }

var catNames = map[string]string{
	"sensitive_medical":     "sensitive medical",
	"non_sensitive_medical": "non-sensitive medical",
	"device":                "device data",
	"unknown":               "unknown",
	"":                      "unknown",
}

var classNames = map[string]string{
	"imaging_modality": "Imaging modality",
	"pacs":             "PACS / archive",
	"workstation":      "Workstation",
	"lab_analyzer":     "Lab analyzer",
	"patient_monitor":  "Patient monitor / gateway",
	"infusion":         "Infusion",
	"his_server":       "HIS / LIS / RIS server",
	"network_it":       "Network or IT device",
	"unknown":          "Unknown class",
}

// zh holds the Chinese strings. Interface-table headers follow the wording
// of the NMPA 2022 guideline's 电子接口情况 (预期用途, 数据类型, 技术特征
// with 网络类型, 数据接口, 性能指标) and the data-architecture section
// (数据架构, 网络环境和数据流图).
var zh = map[string]string{
	// Report structure.
	"medtap evidence report":     "medtap 网络安全证据报告",
	"Capture metadata":           "采集元数据",
	"Devices":                    "设备清单",
	"Data-flow diagrams":         "数据架构：网络环境和数据流图",
	"Electronic interfaces":      "电子接口情况",
	"Capability evidence matrix": "网络安全能力证据矩阵",
	"Findings":                   "发现",
	"Timeline":                   "时间线",
	"Legend":                     "图例",
	"Generated":                  "生成时间",
	"medtap version":             "medtap 版本",
	"Rule-set version":           "规则集版本",
	"Geo database":               "地理数据库版本",
	"Versions of the runs":       "采集时 medtap 版本",
	"Capture window":             "采集时间窗口",
	"Input files":                "输入文件",
	"File":                       "文件",
	"Size":                       "大小",
	"Assets":                     "资产数",
	"Alerts":                     "告警数",
	"none":                       "无",
	"Scenario":                   "使用场景",
	"Nodes":                      "节点",
	"Flows":                      "数据流",
	"SVG not rendered: Graphviz 'dot' was not found (Debian package graphviz); the DOT and Mermaid sources are written.": "未生成 SVG：未找到 Graphviz 的 dot 程序（Debian 软件包 graphviz）；已输出 DOT 与 Mermaid 源文件。",
	"Arrows go from the client (the side that opened the connection) to the server.":                                     "箭头由客户端（发起连接的一方）指向服务端。",
	"patient data in clear":               "敏感医疗数据明文传输",
	"medical data in clear":               "非敏感医疗数据明文传输",
	"device or unknown data in clear":     "设备数据或未知数据明文传输",
	"all flows encrypted":                 "全部加密",
	"device with high or critical alerts": "存在高危或严重告警的设备",
	"clear":                               "明文",
	"encrypted":                           "加密",
	"from %d devices":                     "来自 %d 台设备",
	"An edge from a group's border stands for the same flow from several of its devices.": "从分组边框引出的连线表示组内多台设备的相同数据流。",
	"+%d more":                   "另有 %d 项",
	"Internal network":           "内部网络",
	"External / WAN":             "外部网络 / 广域网",
	"Internal, not in inventory": "内部节点（未入库）",
	// Data categories and classes.
	"sensitive medical":         "敏感医疗数据",
	"non-sensitive medical":     "非敏感医疗数据",
	"device data":               "设备数据",
	"unknown":                   "未知",
	"Imaging modality":          "影像设备",
	"PACS / archive":            "PACS / 影像归档",
	"Workstation":               "工作站",
	"Lab analyzer":              "检验分析仪",
	"Patient monitor / gateway": "监护仪 / 网关",
	"Infusion":                  "输注设备",
	"HIS / LIS / RIS server":    "HIS / LIS / RIS 服务器",
	"Network or IT device":      "网络或 IT 设备",
	"Unknown class":             "未知类别",
	// Device table.
	"Device":            "设备",
	"Class":             "类别",
	"Identity":          "身份标识",
	"MAC / vendor":      "MAC / 厂商",
	"Medical encrypted": "医疗流量加密比例",
	"Open alerts":       "告警",
	"Contradicted":      "被证据否定的能力",
	// Interface table (电子接口情况).
	"Interface (intended use)":              "预期用途（接口）",
	"Port":                                  "技术特征：端口",
	"Transport":                             "传输层协议",
	"Protocol":                              "技术特征：数据接口（协议）",
	"Standard or private":                   "技术特征：数据接口（标准/私有）",
	"LAN/WAN":                               "技术特征：网络类型（局域网/广域网）",
	"Data types":                            "数据类型",
	"Encryption":                            "技术特征：加密",
	"Throughput (average)":                  "技术特征：性能指标（平均传输速率）",
	"Bytes":                                 "字节数",
	"First seen":                            "首次发现",
	"Last seen":                             "最后发现",
	"Intended users":                        "预期用户",
	"Usage limits":                          "使用限制",
	"Interface form":                        "接口形式",
	"server":                                "服务端",
	"client":                                "客户端",
	"standard":                              "标准协议",
	"private":                               "私有协议",
	"LAN":                                   "局域网",
	"WAN":                                   "广域网",
	"LAN+WAN":                               "局域网+广域网",
	"yes":                                   "是",
	"no":                                    "否",
	"partly":                                "部分",
	"(to be filled in by the manufacturer)": "（由注册人填写）",
	"Columns left empty are not observable on the network and are for the manufacturer to fill in.": "空白列无法通过网络观察，由注册人填写。",
	// Matrix.
	"Code":                            "代码",
	"Capability":                      "网络安全能力",
	"Observable by a network monitor": "网络监测可观察性",
	"Status":                          "结论",
	"Evidence":                        "证据",
	"Rules":                           "规则",
	"supported":                       "有证据支持",
	"contradicted":                    "被证据否定",
	"not observed":                    "未观察到",
	"not observable":                  "网络监测无法观察",
	"strong":                          "强",
	"partial":                         "部分",
	// Findings.
	"Rule":        "规则",
	"Severity":    "严重程度",
	"Title":       "标题",
	"Count":       "次数",
	"Alert ids":   "告警编号",
	"Time":        "时间",
	"Flow":        "数据流",
	"Alert id":    "告警编号",
	"No alerts.":  "无告警。",
	"critical":    "严重",
	"high":        "高",
	"medium":      "中",
	"low":         "低",
	"info":        "信息",
	"Remediation": "整改建议",
	"Timeline truncated to the %d most severe alerts.": "时间线仅列出最严重的 %d 条告警。",
}
